// Runs before `npm install` (preinstall) and `npm start`, on whatever Node.js is at hand,
// so it is written for any of them: no let/const, arrows, template strings or modules.
// Provisioner runs its TypeScript sources directly, which needs Node.js 22.18 or newer; on an
// older one, say so in one line instead of a stack trace about ".ts" files.
var needed = [22, 18];
var parts = process.version.replace(/^v/, "").split(".");
var major = parseInt(parts[0], 10) || 0;
var minor = parseInt(parts[1], 10) || 0;
var message =
  "provisioner: Node.js " +
  needed.join(".") +
  " or newer is needed, this is " +
  process.version +
  "; install Node.js 24 (`nvm install` reads .nvmrc, or https://nodejs.org) and run this again.\n";
if (major < needed[0] || (major === needed[0] && minor < needed[1])) {
  process.stderr.write(message);
  process.exit(1);
}
