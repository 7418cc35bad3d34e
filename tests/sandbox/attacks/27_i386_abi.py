# attack: 32-bit syscall ABI via int 0x80 (bypasses x86-64 filters)
# (SIGSYS from the filter, or SIGSEGV where the kernel has IA32 emulation off)
# expect-any: {"signal": 31} | {"signal": 11} | {"ok": true}
import ctypes, mmap
def main():
    # mov eax, 20 (getpid, i386) ; int 0x80 ; ret
    code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    f = ctypes.CFUNCTYPE(ctypes.c_int)(addr)
    r = f()
    print("ESCAPED: int 0x80 returned", r)
