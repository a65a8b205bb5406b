//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ship

import (
	"fmt"
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

// TestReportRefusesAFileDescriptorsName: -o /dev/fd/N (/dev/stdout, /proc/self/fd/N) leads
// to whatever file the process has open there; renaming the report over it would replace
// that file, which the user never named. Refused, pointing at -o -.
func TestReportRefusesAFileDescriptorsName(t *testing.T) {
	f, _ := metricsFixture(t)
	open, err := os.Create(filepath.Join(t.TempDir(), "someone-elses.log"))
	must(t, err)
	defer open.Close()
	must(t, os.WriteFile(open.Name(), []byte("keep me"), 0o644))
	fd := fmt.Sprintf("/dev/fd/%d", open.Fd())

	code, out, errOut := f.shipWith(at(metricsNow), "report", "-o", fd)

	if code != ExitUsage || out != "" || !strings.Contains(errOut, "-o "+fd+" names a file ship has open (a file descriptor, such as its standard output), "+
		"not a file to replace: the report is renamed into place, so give the file's own name, or -o - for standard output") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if data, _ := os.ReadFile(open.Name()); string(data) != "keep me" {
		t.Errorf("the open file was replaced: %.40q", data)
	}
}
