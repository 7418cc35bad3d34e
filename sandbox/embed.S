/*
 * embed.S - runner.py (source and .pyc) and validate.py, embedded into toolgate-sandbox so the
 * helper needs no installed data files and the in-sandbox code cannot be
 * swapped on disk. RUNNER_PY and VALIDATE_PY are absolute paths from
 * sandbox.mk.
 */
	.section .rodata
	.balign 16
	.globl tg_sbx_runner_py
tg_sbx_runner_py:
	.incbin RUNNER_PY
	.globl tg_sbx_runner_py_end
tg_sbx_runner_py_end:
	.byte 0
	.balign 16
	.globl tg_sbx_runner_pyc
tg_sbx_runner_pyc:
	.incbin RUNNER_PYC
	.globl tg_sbx_runner_pyc_end
tg_sbx_runner_pyc_end:
	.byte 0
	.balign 16
	.globl tg_sbx_validate_py
tg_sbx_validate_py:
	.incbin VALIDATE_PY
	.globl tg_sbx_validate_py_end
tg_sbx_validate_py_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
