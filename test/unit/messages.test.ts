// The console's language (plang=): Spanish lines for the init's messages,
// English kept where there is no translation or no catalog.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translator } from "../../src/init/messages.js";

describe("init messages in the console's language", () => {
  it("translates known lines into Spanish and keeps the values", () => {
    const t = translator("es_ES.UTF-8")!;
    assert.equal(t("Loading puppy_tiny_1.0.sfs at /pup_ro2"), "Cargando puppy_tiny_1.0.sfs en /pup_ro2");
    assert.equal(t("Wrong password."), "Contraseña incorrecta.");
    assert.equal(
      t("Password for the encrypted save sda1:/tinysave_luks.4fs (try 2 of 3; Enter alone boots without the save): "),
      "Contraseña del guardado cifrado sda1:/tinysave_luks.4fs (intento 2 de 3; solo Intro arranca sin él): ",
    );
    assert.equal(
      t("Warning: Checking sda1 (pfix=fsck)"),
      "Aviso: Checking sda1 (pfix=fsck)",
      "one rule per line: the first that matches",
    );
  });
  it("leaves lines without a translation, English and unknown languages alone", () => {
    assert.equal(translator("es")!("*** ramstack tiny 1.0 - PUPMODE 12"), "*** ramstack tiny 1.0 - PUPMODE 12");
    assert.equal(translator("en_GB.UTF-8"), null);
    assert.equal(translator("xx_YY"), null);
    assert.equal(translator(null), null);
  });
});
