//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ship

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReportRefusesAFileThatIsNoRegularFile: -o to a named pipe (as to a device) is
// refused up front: the report is written whole by a rename, which would replace the pipe
// with a regular file and leave its reader with nothing. -o - is for streams.
func TestReportRefusesAFileThatIsNoRegularFile(t *testing.T) {
	f, _ := metricsFixture(t)
	fifo := filepath.Join(t.TempDir(), "report.fifo")
	must(t, syscall.Mkfifo(fifo, 0o600))

	code, out, errOut := f.shipWith(at(metricsNow), "report", "-o", fifo)

	if code != ExitUsage || out != "" || !strings.Contains(errOut, "-o "+fifo+" is a named pipe, not a regular file: the report replaces FILE whole, so give a file; "+
		"to write to a stream, use -o - (e.g. ship report -o - > "+fifo+")") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v, %v", fi.Mode(), err)
	}
	if calls := f.aws.Recorded(); len(calls) != 0 {
		t.Errorf("a usage error reached AWS: %v", f.aws.Ops())
	}
}
