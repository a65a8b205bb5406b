// Package golambda packages a Go main package as Lambda code for the provided.al2023
// runtime, built at synthesis by `go build` through CDK's local bundling: no Docker, no
// committed binary, and the same reproducible build (gobuild) that the tests run.
//
//	fn := awslambda.NewFunction(stack, jsii.String("Fn"), &awslambda.FunctionProps{
//		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
//		Architecture: awslambda.Architecture_ARM_64(),
//		Handler:      jsii.String("bootstrap"),
//		Code:         golambda.Code("github.com/platform-eng/pathtoprod/constructs/guard/lambda"),
//	})
//
// The package is named by import path and found from the current directory (gobuild.Locate),
// then built in the module that holds it, against that module's own go.mod and go.sum: in
// this repository, and equally in a service team's module that imports the library, whose
// go.sum lists only what its own imports need (not the AWS SDK a Lambda's main package
// uses). The team needs nothing but its import. The asset hash is the hash of the binary
// (AssetHashType OUTPUT): it changes only when the bytes do, wherever the module was read
// from. Each package is located and built once per process, however many stacks use it.
package golambda

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/gobuild"
)

// Code returns Lambda code built from the main package importPath for linux/arm64.
func Code(importPath string) awslambda.Code {
	// CDK needs an existing directory as the asset's source, though the hash is of the output.
	pkg, err := packageOf(importPath).pkg()
	if err != nil {
		panic(fmt.Sprintf("golambda: %v", err))
	}
	return awslambda.Code_FromAsset(jsii.String(pkg.Dir), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local bundler always answers, or fails with go build's output.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
			Local: &bundler{importPath: importPath},
		},
	})
}

// bundler implements awscdk.ILocalBundling with go build.
type bundler struct {
	importPath string
}

// TryBundle copies the package's binary, built once per process, to outputDir/bootstrap.
// A failed build panics with go's output: falling back to Docker would only hide it.
func (b *bundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	bin, err := packageOf(b.importPath).bin()
	if err != nil {
		panic(fmt.Sprintf("golambda: %v", err))
	}
	if err := copyFile(bin, filepath.Join(*outputDir, "bootstrap")); err != nil {
		panic(fmt.Sprintf("golambda: %v", err))
	}
	return jsii.Bool(true)
}

// goPackage is what is known of one main package in this process: where it and its module
// are, and its built binary, each found once however many functions use the package (the
// 50-team organisation has 100 guards).
type goPackage struct {
	pkg func() (gobuild.Package, error)
	bin func() (string, error)
}

var (
	mu       sync.Mutex
	packages = map[string]*goPackage{}
)

func packageOf(importPath string) *goPackage {
	mu.Lock()
	defer mu.Unlock()
	if p, ok := packages[importPath]; ok {
		return p
	}
	p := &goPackage{pkg: sync.OnceValues(func() (gobuild.Package, error) { return gobuild.Locate(context.Background(), importPath) })}
	p.bin = sync.OnceValues(func() (string, error) {
		pkg, err := p.pkg()
		if err != nil {
			return "", err
		}
		dir, err := os.MkdirTemp("", "golambda-")
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, "bootstrap")
		// In the package's own module, which may be the read-only module cache: go build
		// only reads there, and writes the binary to out.
		return out, gobuild.Build(context.Background(), pkg.Options(out))
	})
	packages[importPath] = p
	return p
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
