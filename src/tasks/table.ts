// Tasks as data: what makes a debian-profile system a web development box,
// a media centre or a retro console. Each task is Debian packages (never
// their Recommends), files and settings, the services it starts, and a
// health check that says whether it works. `ramstack build --task NAME`
// turns one into an SFS layer (src/build/task-layer.ts).

export interface TaskFile {
  text: string;
  mode: number;
}

export interface TaskDef {
  purpose: string;
  /** Debian packages, installed by apt with their dependencies and without Recommends. */
  packages: string[];
  /** Debian archive areas besides main that some of the packages come from (non-free). */
  components?: string[];
  /**
   * Packages a dependency names that the task leaves out: an empty stand-in
   * package provides each, so apt installs what depends on it without it;
   * `apt-get install NAME` later brings the real one and removes the stand-in.
   */
  leaveOut?: { name: string; why: string }[];
  /** Shell commands run in the system after the packages (enabling modules, making folders). */
  setup: string[];
  /** Files written over the packages' (settings, the task's own programs). */
  files: Record<string, TaskFile>;
  /** Of those, the user's once written (a project's first page): never overwritten or removed. */
  userFiles: string[];
  /** Init scripts the task starts at boot (their links made by update-rc.d). */
  services: string[];
  /** Exits 0 when the task works, in the running system. */
  health: string;
  /**
   * The command that runs the task as an appliance, started at boot by the
   * task's init script (applianceService) when asked: pautostart=NAME on the
   * kernel's command line, or AUTOSTART=yes in /etc/default/ramstack-NAME.
   */
  autostart?: string;
}

/** TEXT as one word of sh. */
const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * A task's appliance, as an init script: at boot, when the kernel's command
 * line has pautostart=NAME (a comma-separated list) or
 * /etc/default/ramstack-NAME says AUTOSTART=yes, it starts COMMAND as root
 * in a session of its own, its output in /var/log/ramstack-NAME.log.
 */
export function applianceService(name: string, command: string, what: string): string {
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ramstack-${name}
# Required-Start:    $local_fs $network $syslog
# Required-Stop:     $local_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: ${what}, at boot when asked (pautostart=${name})
### END INIT INFO
PIDFILE=/run/ramstack-${name}.pid
asked() {
  AUTOSTART=no
  [ -r /etc/default/ramstack-${name} ] && . /etc/default/ramstack-${name}
  [ "$AUTOSTART" = yes ] && return 0
  for w in $(cat /proc/cmdline); do
    case $w in pautostart=*) case ",\${w#pautostart=}," in *,${name},*) return 0 ;; esac ;; esac
  done
  return 1
}
case "$1" in
start)
  asked || exit 0
  start-stop-daemon --start --quiet --background --make-pidfile --pidfile $PIDFILE --chdir /root \\
    --startas /bin/sh -- -c ${shellQuote(`HOME=/root exec ${command} >>/var/log/ramstack-${name}.log 2>&1`)}
  ;;
stop)
  # Its whole process group: the command may be a script that started the program.
  pgid=$(ps -o pgid= -p "$(cat $PIDFILE 2>/dev/null)" 2>/dev/null | tr -d ' ')
  [ -n "$pgid" ] && kill -TERM -"$pgid" 2>/dev/null
  rm -f $PIDFILE
  ;;
restart|force-reload) "$0" stop; "$0" start ;;
status) start-stop-daemon --status --pidfile $PIDFILE ;;
*) echo "Usage: $0 start|stop|restart|status" >&2; exit 3 ;;
esac
exit 0
`;
}

const DEVSERVER = `#!/usr/bin/node
// ramstack's development server: serves a folder, and a page it serves
// reloads itself in the browser when a file of the folder changes.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const root = path.resolve(process.argv[2] || "/srv/www");
const port = Number(process.argv[3] || 8000);
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css",
  ".js": "text/javascript",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".txt": "text/plain; charset=utf-8",
};
const RELOAD = "/__ramstack_reload";
const SNIPPET = '<script>new EventSource("' + RELOAD + '").onmessage = () => location.reload();</script>';
const clients = new Set();

// What the folder holds, with times and sizes: a change is a new stamp.
function stampOf(dir) {
  let s = "";
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) s += stampOf(p);
    else {
      try {
        const st = fs.statSync(p);
        s += p + " " + st.mtimeMs + " " + st.size + "\\n";
      } catch {}
    }
  }
  return s;
}
let stamp = null;
setInterval(() => {
  let now = "";
  try {
    now = stampOf(root);
  } catch {}
  if (stamp !== null && now !== stamp) for (const c of clients) c.write("data: reload\\n\\n");
  stamp = now;
}, 300);

http
  .createServer((req, res) => {
    const url = decodeURIComponent((req.url || "/").split("?")[0]);
    if (url === RELOAD) {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write(": waiting for a change\\n\\n");
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    let file = path.join(root, path.normalize(url));
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(403);
      res.end();
      return;
    }
    try {
      if (fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
      const body = fs.readFileSync(file);
      const type = TYPES[path.extname(file)] || "application/octet-stream";
      res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store" });
      if (!type.startsWith("text/html")) res.end(body);
      else {
        const html = body.toString();
        res.end(/<\\/body>/i.test(html) ? html.replace(/<\\/body>/i, SNIPPET + "</body>") : html + SNIPPET);
      }
    } catch {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found\\n");
    }
  })
  .listen(port, () => console.log("serving " + root + " on port " + port + "; pages reload when a file changes"));
`;

const DEVSERVER_SERVICE = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ramstack-devserver
# Required-Start:    $local_fs $network
# Required-Stop:     $local_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: the webdev task's development server (port 8000, /srv/www)
### END INIT INFO
PIDFILE=/run/ramstack-devserver.pid
case "$1" in
start)
  start-stop-daemon --start --quiet --background --make-pidfile --pidfile $PIDFILE \\
    --exec /usr/bin/node -- /usr/bin/ramstack-devserver /srv/www 8000
  ;;
stop) start-stop-daemon --stop --quiet --oknodo --pidfile $PIDFILE --remove-pidfile ;;
restart|force-reload) "$0" stop; "$0" start ;;
status) start-stop-daemon --status --pidfile $PIDFILE ;;
*) echo "Usage: $0 start|stop|restart|status" >&2; exit 3 ;;
esac
`;

const WEBDEV_INDEX = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>ramstack webdev</title></head>
<body>
<h1>ramstack webdev</h1>
<p>This is /srv/www. Edit it: lighttpd serves it with PHP on port 80, and the
development server on port 8000 reloads this page when a file changes.
<code>ramstack save</code> keeps the folder.</p>
</body>
</html>
`;

/** Kodi's settings a media centre starts with: its web server (the web interface and JSON-RPC) on port 8080, no password. */
const KODI_SETTINGS = `<settings version="2">
    <setting id="services.webserver">true</setting>
    <setting id="services.webserverport">8080</setting>
    <setting id="services.webserverauthentication">false</setting>
</settings>
`;

const KODI_COMMAND = "/usr/bin/kodi-standalone --windowing=gbm";

/**
 * RetroArch's settings for a console with no desktop: drawn straight on the
 * display (KMS), its own bitmap menu (rgui: the icon themes are left out),
 * the games folder on the save's partition, ALSA sound, udev input.
 */
const RETROARCH_SETTINGS = `video_driver = "gl"
video_context_driver = "kms"
video_fullscreen = "true"
menu_driver = "rgui"
audio_driver = "alsa"
input_driver = "udev"
input_joypad_driver = "udev"
rgui_browser_directory = "/root/games"
content_directory = "/root/games"
`;

/**
 * root's RetroArch settings, once: Debian's (/etc/retroarch.cfg: where the
 * cores and their descriptions are) with ramstack's in place of the same
 * keys. RetroArch reads only this file when it exists, and an #include'd
 * file would override it.
 */
const RETROARCH_USER_SETTINGS = [
  "cfg=/root/.config/retroarch/retroarch.cfg",
  'if [ ! -e "$cfg" ]; then',
  '  mkdir -p "${cfg%/*}"',
  `  keys=$(sed -n 's/^\\([a-z_]*\\) = .*/\\1/p' /usr/share/ramstack/retroarch.cfg | paste -sd '|')`,
  `  { grep -v -E "^($keys) = " /etc/retroarch.cfg; cat /usr/share/ramstack/retroarch.cfg; } > "$cfg"`,
  "fi",
].join("\n");

const RETRO_COMMAND = "/usr/bin/retroarch";

/**
 * The games folder: on the partition that holds the save (Puppy's
 * /mnt/home), so that games take no RAM and no room in the save. Before a
 * first save there is no such partition, and /root/games leads nowhere.
 */
const GAMES_SERVICE = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ramstack-games
# Required-Start:    $local_fs
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: the retro task's games folder, on the save's partition
### END INIT INFO
case "$1" in
start)
  if [ -d /mnt/home/ ]; then
    mkdir -p /mnt/home/games
  else
    echo "retro: no save partition yet: /root/games (/mnt/home/games) is there once a save is made and the system rebooted" >&2
  fi
  ;;
stop|restart|force-reload) ;;
status) [ -d /mnt/home/games/ ] ;;
*) echo "Usage: $0 start|stop|status" >&2; exit 3 ;;
esac
exit 0
`;

export const TASKS: Record<string, TaskDef> = {
  kodi: {
    purpose:
      "a media centre: Kodi drawing straight on the display (GBM, no X server), ALSA sound, its web interface and JSON-RPC on port 8080; pautostart=kodi boots straight into it",
    // Mesa's drivers (kodi needs only their loader), tzdata (Kodi stops without a time zone), udev (libinput finds the keyboard and remote through it),
    // alsa-utils (a sound card's mixer starts muted: its boot script and udev rule set the levels).
    packages: ["kodi", "libgl1-mesa-dri", "tzdata", "udev", "alsa-utils"],
    setup: ["update-rc.d ramstack-kodi defaults"],
    files: {
      "etc/init.d/ramstack-kodi": {
        text: applianceService("kodi", KODI_COMMAND, "Kodi as the machine's appliance"),
        mode: 0o755,
      },
      "etc/default/ramstack-kodi": {
        text: "# AUTOSTART=yes: start Kodi at every boot (as pautostart=kodi does for one boot).\nAUTOSTART=no\n",
        mode: 0o644,
      },
      "root/.kodi/userdata/guisettings.xml": { text: KODI_SETTINGS, mode: 0o644 },
    },
    userFiles: ["etc/default/ramstack-kodi", "root/.kodi/userdata/guisettings.xml"],
    services: ["ramstack-kodi"],
    // Running: its JSON-RPC answers; otherwise its program has every library it needs.
    health:
      "if [ -s /run/ramstack-kodi.pid ]; then busybox wget -q -O - --header 'Content-Type: application/json' " +
      '--post-data \'{"jsonrpc":"2.0","method":"JSONRPC.Ping","id":1}\' http://127.0.0.1:8080/jsonrpc | grep -q pong; ' +
      "else ! ldd /usr/lib/*/kodi/kodi.bin | grep -q 'not found'; fi",
    autostart: KODI_COMMAND,
  },
  retro: {
    purpose:
      "a retro console: RetroArch with Debian's libretro cores (NES, SNES, Game Boy, GBA, Mega Drive, PC Engine, PlayStation, DS...), DOSBox and MAME; games in /root/games on the save's partition; pautostart=retro boots straight into RetroArch",
    packages: [
      "retroarch",
      "libretro-nestopia",
      "libretro-snes9x",
      "libretro-gambatte",
      "libretro-mgba",
      "libretro-genesisplusgx",
      "libretro-beetle-pce-fast",
      "libretro-beetle-psx",
      "libretro-beetle-vb",
      "libretro-beetle-wswan",
      "libretro-desmume",
      "dosbox",
      "mame",
      // Mesa's drivers (RetroArch's and MAME's GL), udev (input devices), alsa-utils (the mixer's levels).
      "libgl1-mesa-dri",
      "udev",
      "alsa-utils",
    ],
    // snes9x's and Genesis Plus GX's cores: their licences forbid selling them.
    components: ["non-free"],
    leaveOut: [
      {
        name: "retroarch-assets",
        why: "RetroArch's icon themes (112 MiB, and 326 MiB more of fonts-noto-extra); the task uses its bitmap menu, rgui",
      },
    ],
    setup: [
      "update-rc.d ramstack-games defaults",
      "update-rc.d ramstack-retro defaults",
      "[ -e /root/games ] || [ -L /root/games ] || ln -s /mnt/home/games /root/games",
      RETROARCH_USER_SETTINGS,
    ],
    files: {
      "usr/share/ramstack/retroarch.cfg": { text: RETROARCH_SETTINGS, mode: 0o644 },
      // MAME is a game: Debian puts it in /usr/games, which root's PATH lacks.
      "etc/profile.d/ramstack-retro.sh": {
        text: 'case ":$PATH:" in *:/usr/games:*) ;; *) PATH="$PATH:/usr/games" ;; esac\n',
        mode: 0o644,
      },
      "etc/init.d/ramstack-games": { text: GAMES_SERVICE, mode: 0o755 },
      "etc/init.d/ramstack-retro": {
        text: applianceService("retro", RETRO_COMMAND, "RetroArch as the machine's appliance"),
        mode: 0o755,
      },
      "etc/default/ramstack-retro": {
        text: "# AUTOSTART=yes: start RetroArch at every boot (as pautostart=retro does for one boot).\nAUTOSTART=no\n",
        mode: 0o644,
      },
    },
    userFiles: ["etc/default/ramstack-retro"],
    services: ["ramstack-games", "ramstack-retro"],
    // Every program has every library it needs, and RetroArch finds its cores.
    health:
      "for f in /usr/bin/retroarch /usr/bin/dosbox /usr/games/mame /usr/lib/*/libretro/*_libretro.so; do " +
      "! ldd $f | grep -q 'not found' || exit 1; done && ls /usr/lib/*/libretro/nestopia_libretro.so >/dev/null",
    autostart: RETRO_COMMAND,
  },
  webdev: {
    purpose:
      "a web development box: lighttpd with PHP serving /srv/www on port 80, a development server that reloads pages on change on port 8000, Node.js, git and nano",
    packages: ["lighttpd", "php-cgi", "php-cli", "nodejs", "git", "nano", "ca-certificates"],
    setup: [
      "ln -sf ../conf-available/10-fastcgi.conf /etc/lighttpd/conf-enabled/10-fastcgi.conf",
      "ln -sf ../conf-available/15-fastcgi-php.conf /etc/lighttpd/conf-enabled/15-fastcgi-php.conf",
      "update-rc.d ramstack-devserver defaults",
    ],
    files: {
      "etc/lighttpd/conf-enabled/90-ramstack-webdev.conf": {
        text:
          '# ramstack webdev: the project folder, kept by saves.\nserver.document-root := "/srv/www"\n' +
          "# A development box: a file edited is served as it is now, not as lighttpd last saw it.\n" +
          'server.stat-cache-engine = "disable"\n',
        mode: 0o644,
      },
      "usr/bin/ramstack-devserver": { text: DEVSERVER, mode: 0o755 },
      "etc/init.d/ramstack-devserver": { text: DEVSERVER_SERVICE, mode: 0o755 },
      "srv/www/index.html": { text: WEBDEV_INDEX, mode: 0o644 },
      "srv/www/info.php": { text: "<?php echo 'PHP ' . PHP_VERSION . \"\\n\";\n", mode: 0o644 },
    },
    userFiles: ["srv/www/index.html", "srv/www/info.php"],
    services: ["lighttpd", "ramstack-devserver"],
    // busybox's wget (Debian's busybox is there for syslogd): Node.js takes seconds to start under emulation.
    health:
      "busybox wget -q -O - http://127.0.0.1/info.php | grep -q '^PHP ' && busybox wget -q -O /dev/null http://127.0.0.1:8000/",
  },
};

export const TASK_NAMES = Object.keys(TASKS);

/** A task by name; an unknown one is an error that names the known ones. */
export function taskDef(name: string): TaskDef {
  const t = TASKS[name];
  if (!t) throw new Error(`unknown task '${name}' (known: ${TASK_NAMES.join(", ")})`);
  return t;
}

/** Task names from a comma-separated list; an unknown one is an error that names the known ones. */
export function parseTasks(text: string): string[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) taskDef(n);
  return [...new Set(names)];
}
