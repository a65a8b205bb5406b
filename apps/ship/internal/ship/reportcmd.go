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
FILE as it was. FILE must not be a directory, and its directory must exist.

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
// written to: none given, a directory, a directory that does not exist.
func checkOutput(output string) error {
	switch {
	case output == "":
		return usagef("report needs -o FILE: where to write the HTML report (-o - for stdout)")
	case output == "-":
		return nil
	}
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		return usagef("-o %s is a directory; give a file name, e.g. -o %s", output, filepath.Join(output, "report.html"))
	}
	dir := filepath.Dir(output)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usagef("-o %s: directory %s does not exist", output, dir)
	}
	return nil
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
// same directory (so the rename stays on one file system), which replaces path only once
// write and the file's sync succeeded. On failure path is left as it was.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write the report next to %s: %w", path, err)
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
	if err := errors.Join(bw.Flush(), f.Chmod(0o644), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write the report to %s: %w (%s is unchanged)", f.Name(), err, path)
	}
	// Checked again at the end: a directory made at path meanwhile must not be replaced.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &fs.PathError{Op: "write the report", Path: path, Err: errors.New("is a directory")}
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}
