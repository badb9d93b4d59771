package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// cpuTime returns the user plus system CPU time of this process so far,
// all threads included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS returns memory garbage from earlier phases to the OS and
// resets the kernel's resident-set high-water mark, so that peakRSS measures
// the next phase alone. It reports whether the reset worked (it needs Linux
// 4.0+ and a writable /proc/self/clear_refs); when it did not, peakRSS is
// the process's lifetime peak, which over-states later phases.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	// "5" resets the peak RSS (proc(5), clear_refs).
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the resident-set high-water mark in bytes: VmHWM from
// /proc/self/status, falling back to getrusage's maxrss (which cannot be
// reset).
func peakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := sc.Bytes()
			if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
				f := bytes.Fields(rest) // "123456 kB"
				if len(f) >= 1 {
					if kb, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
						return kb << 10
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return ru.Maxrss << 10 // kilobytes on Linux
	}
	return 0
}

// measurement is what one timed phase cost.
type measurement struct {
	wall, cpu time.Duration
	peakRSS   int64
}

// measure runs fn as a timed phase.
func measure(fn func() error) (measurement, error) {
	resetPeakRSS()
	c0, t0 := cpuTime(), time.Now()
	err := fn()
	return measurement{wall: time.Since(t0), cpu: cpuTime() - c0, peakRSS: peakRSS()}, err
}
