// Console keyboard and language (set_plang).

export interface LocaleChoice {
  lang: string | null;
  keymap: string | null;
  keymapFile: string | null;
  font: string | null;
  codepage: string | null;
  notes: string[];
  warnings: string[];
}

const KEY_ALIASES: Record<string, string> = { en: "us", gb: "uk", ja: "jp106", jp: "jp106" };
const CP850 = ["de", "be", "br", "dk", "es", "fi", "fr", "it", "no", "se", "pt"];
const CP852 = ["cz", "hu", "pl", "ro", "sk", "croat", "slovene"];

export function chooseLocale(
  plang: string | null,
  pkeys: string | null,
  initrd: { PUPPYLANG?: string; PUPPYKEYMAP?: string; files?: string[] },
): LocaleChoice {
  const notes: string[] = [];
  const warnings: string[] = [];
  const lang = plang ?? (initrd.PUPPYLANG?.trim() || null);
  if (lang) notes.push(`language ${lang}${plang ? " (plang)" : " (initrd default)"}`);
  let keys = pkeys ?? (initrd.PUPPYKEYMAP?.trim() || null);
  if (!keys && lang) keys = lang.startsWith("en_GB") ? "uk" : lang.slice(0, 2);
  if (keys && KEY_ALIASES[keys]) keys = KEY_ALIASES[keys]!;
  let keymapFile: string | null = null;
  if (keys) {
    const maps = (initrd.files ?? []).filter((f) => f.startsWith("/lib/keymaps/") && f.endsWith(".gz")).sort();
    keymapFile =
      maps.find((f) => f === `/lib/keymaps/${keys}.gz`) ??
      maps.find((f) => f.startsWith(`/lib/keymaps/${keys}`)) ??
      null;
    if (keymapFile) notes.push(`keymap ${keys} from ${keymapFile}`);
    else if (keys !== "us") warnings.push(`no keymap ${keys} in the initrd; the console keeps the default (us)`);
  }
  const short = lang ? lang.slice(0, 2) : "";
  const font =
    !lang || short === "en"
      ? null
      : ["ar", "iw", "he"].includes(short)
        ? "LatArCyrHeb"
        : short === "ru"
          ? "ter-u16n"
          : "LatGrkCyr-8x16";
  const kshort = keys ?? "";
  const codepage = CP850.includes(kshort) ? "850" : CP852.includes(kshort) ? "852" : null;
  return { lang, keymap: keys, keymapFile, font, codepage, notes, warnings };
}

/** vfat mount options for the chosen keyboard's codepage. */
export function vfatOptions(codepage: string | null): string {
  const base = "noatime,shortname=mixed,quiet,utf8";
  if (codepage === "850") return `${base},codepage=850`;
  if (codepage === "852") return `${base},codepage=852,iocharset=iso8859-2`;
  return base;
}
