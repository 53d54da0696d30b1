// What the init says on the console, in the language plang= asks for. The
// boot log keeps English (it is read for support); only the console is
// translated. A line without a translation is shown as it is.

type Catalog = [RegExp, string][];

const ES: Catalog = [
  [/^Loading (\S+) at (\S+)$/, "Cargando $1 en $2"],
  [/^Copying (\S+) to RAM$/, "Copiando $1 a la RAM"],
  [/^Stacking (.+) with overlay$/, "Apilando $1 con overlay"],
  [/^Switching to the layered root \((\S+) s in the init\)$/, "Pasando a la raíz por capas ($1 s en el init)"],
  [/^Save layer (.+)$/, "Capa de guardado $1"],
  [/^Save: (.+)$/, "Guardado: $1"],
  [
    /^Password for the encrypted save (\S+) \(try (\d+) of (\d+); Enter alone boots without the save\): $/,
    "Contraseña del guardado cifrado $1 (intento $2 de $3; solo Intro arranca sin él): ",
  ],
  [/^Wrong password\.$/, "Contraseña incorrecta."],
  [/^Opened the encrypted save (\S+)$/, "Guardado cifrado $1 abierto"],
  [/^Checking (.+) \((.+)\)$/, "Comprobando $1 ($2)"],
  [/^Unpacking the archive save (\S+) into RAM$/, "Desempaquetando el guardado $1 en la RAM"],
  [/^Copying (\d+) session folder\(s\) from (\S+) to RAM$/, "Copiando $1 carpeta(s) de sesión de $2 a la RAM"],
  [
    /^\*\*\* Booting with the session in RAM \(as with pfix=ram\); the save is not touched\.$/,
    "*** Arrancando con la sesión en RAM (como con pfix=ram); el guardado no se toca.",
  ],
  [
    /^The boot cannot go on\. A shell follows; 'exit' tries the boot again\.$/,
    "El arranque no puede seguir. Sigue una shell; 'exit' vuelve a intentar el arranque.",
  ],
  [/^Gave up waiting after (\d+) s for: (.+)$/, "Se dejó de esperar tras $1 s a: $2"],
  [/^Warning: (.+)$/, "Aviso: $1"],
  [/^No answer in (\d+) s: (.+)$/, "Sin respuesta en $1 s: $2"],
  [/^Answer: (.+)$/, "Respuesta: $1"],
  [/^(\d+) saves found\. Which one\?$/, "Se encontraron $1 guardados. ¿Cuál?"],
  [/^none: boot without a save$/, "ninguno: arrancar sin guardado"],
  [/^Choice \[(\S+)\] \((\d+) s\): $/, "Opción [$1] ($2 s): "],
  [/^Keyboard: (.+)$/, "Teclado: $1"],
];

const CATALOGS: Record<string, Catalog> = { es: ES };

/** A translator for a plang value (es_ES.UTF-8 → Spanish); null for English or a language without a catalog. */
export function translator(lang: string | null): ((line: string) => string) | null {
  const catalog = lang ? CATALOGS[lang.slice(0, 2).toLowerCase()] : undefined;
  if (!catalog) return null;
  return (line) => {
    for (const [re, to] of catalog) if (re.test(line)) return line.replace(re, to);
    return line;
  };
}
