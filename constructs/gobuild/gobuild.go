// Package gobuild builds a Go main package into a Lambda `bootstrap` executable,
// reproducibly: the same source and toolchain give the same bytes, so the asset hash only
// changes when the code does.
//
//	err := gobuild.Build(ctx, gobuild.Options{Package: "./constructs/guard/lambda", Output: "out/bootstrap"})
//
// The CDK local bundler and the tests that start the real binary both call Build, so what
// is tested is what is deployed. It needs no jsii.
package gobuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Options says what to build and for which platform.
type Options struct {
	// Package is the main package to build, as `go build` takes it (a path or import path).
	Package string
	// Output is the file to write. It is usually named bootstrap, as provided.al2023 expects.
	Output string
	// Dir is the working directory of `go build` (inside the module). Default: the current directory.
	Dir string
	// GOOS is the target system. Default: linux.
	GOOS string
	// GOARCH is the target architecture. Default: arm64 (Graviton: cheaper per ms).
	GOARCH string
}

// Flags are the build flags: no cgo, no local paths or build id in the binary, symbols
// stripped, and the lambda.norpc tag that drops the unused net/rpc server of aws-lambda-go.
var Flags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-tags=lambda.norpc"}

// Command returns the `go build` command for o, for callers that want to run it themselves.
func Command(ctx context.Context, o Options) *exec.Cmd {
	o = o.withDefaults()
	args := append([]string{"build"}, Flags...)
	args = append(args, "-o", o.Output, o.Package)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.Dir
	// Pin every setting that changes the bytes, so the host environment cannot.
	cmd.Env = append(os.Environ(), "GOOS="+o.GOOS, "GOARCH="+o.GOARCH, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly",
		"GOARM64=v8.0", "GOAMD64=v1")
	return cmd
}

func (o Options) withDefaults() Options {
	if o.GOOS == "" {
		o.GOOS = "linux"
	}
	if o.GOARCH == "" {
		o.GOARCH = "arm64"
	}
	return o
}

// Build runs `go build` for o and returns its output in the error when it fails.
func Build(ctx context.Context, o Options) error {
	o = o.withDefaults()
	cmd := Command(ctx, o)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w\n%s", o.Package, o.GOOS, o.GOARCH, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// List returns the directory of a package, as `go list -f {{.Dir}}` resolves it from the
// current module: this repository, or the module cache when another module imports it.
func List(ctx context.Context, importPath string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", importPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w\n%s", importPath, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
