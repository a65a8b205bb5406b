package ship

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/report"
)

// ship report: what ship metrics reads, as one self-contained HTML file (package report
// draws it). The file is written whole or not at all: into a temporary file beside it,
// renamed over it once the writer succeeded.

func (c *cli) reportCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "write the delivery metrics as one HTML file: ship report -o report.html",
		Long: `Report reads what ship metrics reads, with the same flags (one path, or --all; --since,
--parallel, --profile, --role, --role-name), and writes it as one self-contained HTML
file of charts, per path and for the organisation: -o FILE, or -o - for stdout. The keys
are those of ship metrics (ship help metrics; the README's "Delivery metrics" has the
definitions).

The file is written whole or not at all: into a temporary file in the same directory,
renamed over FILE only once the report is complete, so a failure (or Ctrl-C) leaves
FILE as it was. FILE is an HTML file or a new one in a directory that exists: not a
directory, a device, a named pipe or /dev/stdout (use -o - for a stream), and not an
existing file of another kind (a mistyped -o main.go), which would be lost. A symbolic
link is followed, so the link stays and the file it points at is replaced. A replaced
FILE keeps its permissions (a report made private stays so); a new one is 0644.

Environments that cannot be read are in the report with the reason; as with metrics,
without --all that makes the command exit 1 (after writing the report), with --all only
when nothing could be read.`,
		Example: `  ship report -o report.html
  ship report --all --since 90d --role-name metrics-reader -o delivery.html`,
		Args: positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			c.ran = true
			if err := checkOutput(output); err != nil {
				return err
			}
			return c.runMetrics(func(ctx context.Context, r *metricsRun) error {
				write := c.app.WriteReport
				if write == nil {
					write = report.Write
				}
				return r.report(ctx, output, write)
			})(cmd, args)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to `FILE` (- for stdout); required")
	c.metricsFlagsOn(cmd)
	return cmd
}

// checkOutput refuses, before anything is read, an output the report could not be
// written to, or whose replacement would lose something: none given, a directory, a
// directory that does not exist, a symbolic link to nothing, or anything but a regular
// file (a device, a named pipe), which a rename would replace rather than write to.
func checkOutput(output string) error {
	switch {
	case output == "":
		return usagef("report needs -o FILE: where to write the HTML report (-o - for stdout)")
	case output == "-":
		return nil
	case output == "=":
		// What -o= gives (a shorthand takes the rest of its word): surely no file name.
		return usagef("-o= gives no file name (the flag's value would be a file named \"=\"); want -o FILE, or -o - for stdout")
	}
	if _, _, err := outputTarget(output); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// outputTarget is the file -o output names, and the permission bits the report is to
// have there. A symbolic link is followed, so that the link stays and the file it points
// at is replaced; an existing file keeps its permission bits (a report made private stays
// private); a new one gets 0644. Anything writeAtomically cannot replace whole is refused,
// each with what to give instead.
func outputTarget(output string) (target string, perm fs.FileMode, err error) {
	if descriptorPath(output) {
		return "", 0, fmt.Errorf("-o %s names a file ship has open (a file descriptor, such as its standard output), not a file to replace: "+
			"the report is renamed into place, so give the file's own name, or -o - for standard output", output)
	}
	// Stat follows links as the kernel opens them, /dev/stdout's /proc/self/fd/1 (a pipe,
	// a terminal) included: what would be replaced is judged by what is there.
	fi, err := os.Stat(output)
	if err != nil {
		if li, lerr := os.Lstat(output); lerr == nil && li.Mode()&fs.ModeSymlink != 0 && errors.Is(err, fs.ErrNotExist) {
			link, _ := os.Readlink(output)
			return "", 0, fmt.Errorf("-o %s is a symbolic link to %s, which does not exist (want a file, or a link to one)", output, link)
		}
		// Its directory first: what is wrong there (missing, a file) is the clearer reason.
		dir := filepath.Dir(output)
		switch di, dirErr := os.Stat(dir); {
		case errors.Is(dirErr, fs.ErrNotExist):
			return "", 0, fmt.Errorf("-o %s: directory %s does not exist", output, dir)
		case dirErr == nil && !di.IsDir():
			return "", 0, fmt.Errorf("-o %s: %s is not a directory", output, dir)
		case errors.Is(err, fs.ErrNotExist):
			return output, 0o644, nil
		}
		return "", 0, fmt.Errorf("-o %s: %w", output, err)
	}
	switch {
	case fi.IsDir():
		return "", 0, fmt.Errorf("-o %s is a directory; give a file name, e.g. -o %s", output, filepath.Join(output, "report.html"))
	case !fi.Mode().IsRegular():
		return "", 0, fmt.Errorf("-o %s is a %s, not a regular file: the report replaces FILE whole, so give a file; "+
			"to write to a stream, use -o - (e.g. ship report -o - > %s)", output, fileKind(fi.Mode()), output)
	}
	if !isHTML(output, fi) {
		return "", 0, fmt.Errorf("-o %s exists and is not an HTML file: the report would replace it whole, and what it holds would be lost; "+
			"give the report a name of its own (e.g. -o report.html), or remove %s first if it is meant to go", output, output)
	}
	target = output
	if li, err := os.Lstat(output); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(output); err != nil {
			return "", 0, fmt.Errorf("-o %s: a symbolic link ship cannot follow to its file (%w): give the file itself", output, err)
		}
	}
	return target, fi.Mode().Perm(), nil
}

// isHTML reports whether the existing regular file at path is empty or an HTML document (a
// report, last week's or another page), which a report may replace; anything else (a
// mistyped -o main.go, -o README.md) is refused, since the rename would destroy it.
func isHTML(path string, fi fs.FileInfo) bool {
	if fi.Size() == 0 {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return true // unreadable: the write will say what is wrong
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	start := strings.ToLower(strings.TrimLeft(strings.TrimPrefix(string(head[:n]), "\ufeff"), " \t\r\n"))
	return strings.HasPrefix(start, "<!doctype html") || strings.HasPrefix(start, "<html")
}

// descriptorPath reports whether path is, or links to, one of the process's open files by
// descriptor (/dev/stdout, /dev/fd/N, /proc/self/fd/N): renaming a report over what such
// a link leads to would replace whatever file the shell opened there.
func descriptorPath(path string) bool {
	for range 40 { // links followed at most, as the kernel's own bound
		abs, err := filepath.Abs(path)
		if err != nil {
			return false
		}
		if strings.HasPrefix(abs, "/dev/fd/") || procFD.MatchString(abs) {
			return true
		}
		link, err := os.Readlink(abs)
		if err != nil {
			return false
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(abs), link)
		}
		path = link
	}
	return false
}

var procFD = regexp.MustCompile(`^/proc/[^/]+/fd/`)

// fileKind names what a file that is not a regular file or directory is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// report reads the metrics and writes them with write to output ("-": stdout).
func (r *metricsRun) report(ctx context.Context, output string, write func(io.Writer, report.Input) error) error {
	paths, err := r.readAll(ctx)
	if err != nil {
		return err
	}
	r.noteUnreadable(paths)
	in := r.reportInput(paths)
	if output == "-" {
		if err := write(r.out, in); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	} else {
		if err := writeAtomically(output, func(w io.Writer) error { return write(w, in) }); err != nil {
			return err
		}
		failed, read := unreadable(paths)
		what := fmt.Sprintf("%d %s, %d %s read", len(paths), plural(len(paths), "path", "paths"), read, plural(read, "environment", "environments"))
		if len(failed) > 0 {
			what += fmt.Sprintf(", %d unreadable", len(failed))
		}
		fmt.Fprintf(r.out, "wrote %s: delivery metrics of the last %s (%s to %s), %s\n", output, r.set.sinceText,
			formatTime(r.window.From), formatTime(r.window.To), what)
	}
	return r.outcome(paths, "the report is incomplete", "the report says why")
}

// reportInput is what was read, as the report takes it.
func (r *metricsRun) reportInput(paths []pathMetrics) report.Input {
	in := report.Input{Title: r.set.orgSource, Window: r.window, Generated: r.now}
	for _, pm := range paths {
		p := report.Path{Name: pathName(pm.path)}
		for _, em := range pm.envs {
			e := report.Env{Name: em.env.Name}
			if em.read() {
				e.Metrics = em.metrics
				if em.timesErr != nil {
					// The shortened window the report says itself, from the summary.
					e.Notes = append(e.Notes, fmt.Sprintf("commit times could not be read, so lead times are unknown where missing: %v", em.timesErr))
				}
			} else {
				e.Problem = em.err.Error()
			}
			p.Envs = append(p.Envs, e)
		}
		in.Paths = append(in.Paths, p)
	}
	return in
}

// writeAtomically writes path whole or not at all: write fills a temporary file in the
// directory of the file path names (a symbolic link's target: the link stays, and the
// rename stays on one file system), which replaces that file only once write and the
// file's sync succeeded, with the permission bits it had (outputTarget). On failure path
// is left as it was.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	target, _, err := outputTarget(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	// The temporary file's name is the target's, shortened: a name near the file
	// system's limit (255 bytes) must not fail for the dot and suffix added to it.
	f, err := os.CreateTemp(dir, "."+shorten(base, 100)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write the report next to %s: %w", target, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("write the report: %w (%s is unchanged)", err, path)
	}
	// Checked again at the end: what is at path now (a directory made meanwhile must not
	// be replaced; a chmod meanwhile is kept).
	again, perm, err := outputTarget(path)
	switch {
	case err != nil:
		return fmt.Errorf("write the report: %w (%s is unchanged)", err, path)
	case again != target:
		return fmt.Errorf("write the report: %s changed while the report was written (it now leads to %s, not %s); %s is unchanged", path, again, target, path)
	}
	if err := errors.Join(bw.Flush(), f.Chmod(perm), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write the report to %s: %w (%s is unchanged)", f.Name(), err, path)
	}
	if err := os.Rename(f.Name(), target); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// shorten is s cut to at most n bytes, at a rune's start.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
