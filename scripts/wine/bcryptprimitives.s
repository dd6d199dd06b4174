# bcryptprimitives.dll for wine 8 (Debian 12), which lacks it: Go 1.22+ programs call
# ProcessPrng from it at start on Windows and stop with "bcryptprimitives.dll not found"
# without it. ProcessPrng(buf, len) fills buf with random bytes and always returns TRUE; this
# one asks RtlGenRandom (advapi32's SystemFunction036, which wine has). Only make wine-check
# uses it, in its own wine prefix; it never ships. Assembled by scripts/wine-check.sh with
# binutils-mingw-w64-x86-64 (Windows x64 calling convention: rcx, rdx; 32 bytes of shadow space).
	.text
	.globl	DllMain
DllMain:
	movl	$1, %eax
	ret

	.globl	ProcessPrng
ProcessPrng:
	subq	$40, %rsp
	call	*__imp_SystemFunction036(%rip)
	addq	$40, %rsp
	movl	$1, %eax
	ret
