// What LUKS save files need of the kernel: a table, for the init, the saver
// and the build (which puts these modules in the initrd).

/** Modules the kernel needs for dm-crypt with aes-xts (aesni_intel only where the CPU has AES-NI). */
export const LUKS_MODULES = ["dm_crypt", "xts", "aesni_intel", "algif_skcipher"];
