// Package gobuild builds a Go main package into a Lambda `bootstrap` executable,
// reproducibly: the same source and toolchain give the same bytes, so the asset hash only
// changes when the code does.
//
//	err := gobuild.Build(ctx, gobuild.Options{Package: "./constructs/guard/lambda", Output: "out/bootstrap"})
//
// A package is always built against the go.mod and go.sum of the module it lives in, never
// against those of whichever module happens to run the build: a service team's module that
// imports this library lists only what its own imports need, not what a Lambda's main
// package needs (the AWS SDK, aws-lambda-go). Locate finds that module from the current
// directory (this repository, a `replace`d checkout, or the module cache) and
// Package.Options builds in it.
//
// The CDK local bundler and the tests that start the real binary both call Build, so what
// is tested is what is deployed. It needs no jsii.
package gobuild

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Options says what to build and for which platform.
type Options struct {
	// Package is the main package to build, as `go build` takes it: a path relative to Dir
	// ("./cmd/x") or an import path inside Dir's module.
	Package string
	// Output is the file to write. It is usually named bootstrap, as provided.al2023 expects.
	Output string
	// Dir is the working directory of `go build`: a directory of the module whose go.mod and
	// go.sum the build uses. Default: the current directory.
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
	// Pin every setting that changes the bytes, so the host environment cannot. GOFLAGS
	// replaces the user's (a -mod=mod or -mod=vendor there would change what is built, or
	// fail in the read-only module cache), and GOWORK=off keeps a go.work around the
	// caller's module from swapping in other versions: the module's own go.sum decides.
	// Later entries win in exec's environment, so these override os.Environ().
	cmd.Env = append(os.Environ(), "GOOS="+o.GOOS, "GOARCH="+o.GOARCH, "CGO_ENABLED=0",
		"GOFLAGS=-mod=readonly", "GOWORK=off", "GOARM64=v8.0", "GOAMD64=v1")
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
		where := o.Dir
		if where == "" {
			where = "the current directory"
		}
		return fmt.Errorf("go build %s in %s for %s/%s: %w\n%s", o.Package, where, o.GOOS, o.GOARCH, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Package is a Go package and the module that holds it, as found from the current directory.
type Package struct {
	// ImportPath is the package's import path.
	ImportPath string
	// Dir is the package's source directory.
	Dir string
	// ModulePath is the path of the module that holds the package.
	ModulePath string
	// ModuleDir is that module's root directory (where its go.mod is): a checkout, or a
	// read-only directory of the module cache.
	ModuleDir string
}

// Options returns the options that build p to output in its own module: the package path
// relative to ModuleDir, and ModuleDir as the working directory.
func (p Package) Options(output string) Options {
	rel := "."
	if p.ImportPath != p.ModulePath {
		rel = "./" + strings.TrimPrefix(p.ImportPath, p.ModulePath+"/")
	}
	return Options{Package: rel, Output: output, Dir: p.ModuleDir}
}

// Locate finds importPath and its module as the Go command resolves them from the current
// directory: the module being built (this repository), the version the caller's go.mod
// requires (downloaded to the module cache if need be), or what a `replace` or the caller's
// go.work points at. Only the package itself is resolved: its own dependencies need not be
// in the caller's go.sum, since it is built in its module (Options).
func Locate(ctx context.Context, importPath string) (Package, error) {
	// -e: the caller's go.sum may lack the package's dependencies; that is expected and does
	// not stop the package and its module from being found. -mod=readonly replaces the
	// user's GOFLAGS: -mod=vendor would look in a vendor directory, which never holds a main
	// package that is only named in a string. GOWORK stays the user's: a workspace that
	// holds a checkout of the library is the source the user means.
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-json=ImportPath,Dir,Module,Error", importPath)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cwd, _ := os.Getwd()
	fail := func(format string, args ...any) (Package, error) {
		return Package{}, fmt.Errorf("find Go package %s from %s: %s (run the app from inside a Go module "+
			"that requires the module of %s, after `go mod tidy`)", importPath, cwd, fmt.Sprintf(format, args...), importPath)
	}
	if err := cmd.Run(); err != nil {
		return fail("go list: %v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	var p struct {
		ImportPath, Dir string
		Module          *struct{ Path, Version, Dir string }
		Error           *struct{ Err string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		return fail("go list printed %q: %v", stdout.String(), err)
	}
	switch {
	case p.Module == nil && p.Error != nil:
		return fail("%s", p.Error.Err)
	case p.Module == nil:
		return fail("it is in no module")
	case p.Module.Dir == "":
		return fail("module %s %s has no directory: download it with `go mod download %s`", p.Module.Path, p.Module.Version, p.Module.Path)
	case p.Dir == "":
		msg := "no such package in module " + p.Module.Path
		if p.Error != nil {
			msg = p.Error.Err
		}
		return fail("%s", msg)
	}
	return Package{ImportPath: p.ImportPath, Dir: p.Dir, ModulePath: p.Module.Path, ModuleDir: p.Module.Dir}, nil
}
