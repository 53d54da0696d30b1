// ISO boot (isofrom= and friends): the ISO file on a partition, opened as a
// partition of its own named "iso".

import type { Inventory, Part } from "../devices.js";
import type { BootParams } from "../params.js";
import { normalizePath } from "../tree.js";
import type { Ctx } from "./context.js";
import { fatal, namedPart } from "./context.js";

export interface IsoBoot {
  /** The partition holding the ISO file. */
  host: Part;
  path: string;
  /** The ISO's own files. */
  part: Part;
}

export function findIso(ctx: Ctx, p: BootParams, inv: Inventory): IsoBoot | null {
  if (p.isoFile === null) return null;
  const path = normalizePath(p.isoFile);
  const devId = p.isoDev ?? p.root;
  const hosts = devId
    ? [
        namedPart(ctx, inv.parts, {
          topic: "iso",
          id: devId,
          missing: `the partition ${devId} holding the ISO ${path} was not found`,
        })!,
      ]
    : inv.parts;
  const host = hosts.find((h) => h.tree.stat(path)?.kind === "file");
  if (!host) {
    ctx.pending.push(path);
    fatal(ctx, "iso", `ISO file ${path} not found on ${hosts.map((h) => h.name).join(", ") || "any partition"}`);
  }
  const st = host.tree.stat(path)!;
  if (!st.image) fatal(ctx, "iso", `${host.name}:${path} cannot be read as an ISO image`);
  const part: Part = {
    ...host,
    name: "iso",
    fstype: st.fstype ?? "iso9660",
    label: "",
    uuid: "",
    optical: false,
    usb: host.usb,
    tree: st.image,
  };
  ctx.log.info("iso", `booting from the ISO ${host.name}:${path}`);
  return { host, path, part };
}
