/*
 * pkg_embed.c - lib/pkg_resolver.py embedded into the toolgate binary
 * (lib/packages.c runs it as the code of a sandbox run), so no installed
 * data file is needed and it cannot be swapped on disk. The Makefile makes
 * this object depend on the .py file (.incbin is not seen by -MMD).
 */
__asm__(".section .rodata\n"
	".balign 16\n"
	".globl tg_pkg_resolver_py\n"
	"tg_pkg_resolver_py:\n"
	".incbin \"lib/pkg_resolver.py\"\n"
	".globl tg_pkg_resolver_py_end\n"
	"tg_pkg_resolver_py_end:\n"
	".byte 0\n"
	".previous\n");
