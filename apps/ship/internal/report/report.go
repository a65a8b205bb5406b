// Package report writes the delivery report: one self-contained HTML file of charts of
// the dora metrics, per path and for the organisation.
package report

import (
	"errors"
	"io"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// Input is what the report shows.
type Input struct {
	// Title names the organisation (e.g. the organisation file).
	Title string
	// Window is the span the metrics cover.
	Window dora.Window
	// Generated is when the histories were read.
	Generated time.Time
	// Paths are the paths read, in the order to show them.
	Paths []Path
}

// Path is one service's environments.
type Path struct {
	// Name is team/service.
	Name string
	// Envs are the path's environments, in promotion order.
	Envs []Env
}

// Env is one environment's metrics, or why it could not be read.
type Env struct {
	Name    string
	Metrics dora.Metrics
	// Problem, if not empty, says why the environment could not be read; Metrics is empty.
	Problem string
}

// Write writes the report as one HTML file.
func Write(w io.Writer, in Input) error {
	return errors.New("report: not written yet")
}
