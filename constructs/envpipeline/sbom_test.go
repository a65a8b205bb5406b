package envpipeline_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// devBuild is the dev build project of the shared pipeline with the default registry.
func devBuild(t *testing.T) map[string]interface{} {
	t.Helper()
	return project(t, withRegistry(t, "dev"), "payments-checkout-dev-build")
}

func TestDevBuildStoresTheSbomOfThePushedImageKeyedByDigest(t *testing.T) {
	build := devBuild(t)
	cmds := buildCommands(t, build)
	// syft is installed first, at the pinned version, before the service's commands run.
	if !slices.Equal(cmds[:2], envpipeline.SbomInstallCommands) || cmds[2] != "make build" {
		t.Fatalf("the build does not begin with the syft install, then the service's build:\n%q", cmds)
	}
	if want := `go install github.com/anchore/syft/cmd/syft@v1.33.0)`; !strings.HasSuffix(cmds[1], want) || !strings.Contains(cmds[1], "GOTOOLCHAIN=auto GOFLAGS= GOSUMDB=sum.golang.org") {
		t.Errorf("syft install %q, want go install of %s", cmds[1], want)
	}
	// The SBOM comes last, once the pushed image's digest is known.
	digest := slices.IndexFunc(cmds, func(c string) bool {
		return strings.HasPrefix(c, `export IMAGE_URI="$IMAGE_REPOSITORY_URI@$IMAGE_DIGEST"`)
	})
	if digest < 0 || !slices.Equal(cmds[len(cmds)-len(envpipeline.SbomCommands):], envpipeline.SbomCommands) || digest > len(cmds)-len(envpipeline.SbomCommands) {
		t.Fatalf("the SBOM commands are not the last, after the digest is exported:\n%q", cmds)
	}
	sbom := strings.Join(envpipeline.SbomCommands, "\n")
	for _, want := range []string{
		`"$SBOM_TOOLS/syft" scan "registry:$IMAGE_URI" -o "spdx-json=$SBOM_TOOLS/sbom.spdx.json"`, // by digest, from the registry
		`if aws s3api head-object --bucket "$SBOM_BUCKET" --key "$SBOM_KEY"`,                      // a retried run skips it
		`--metadata "commit=$COMMIT_ID"`,
		`--content-type application/spdx+json`,
	} {
		if !strings.Contains(sbom, want) {
			t.Errorf("SBOM commands lack %q:\n%s", want, sbom)
		}
	}
	if env := compact(build["Environment"]); !strings.Contains(env, `{"Name":"SBOM_BUCKET","Type":"PLAINTEXT","Value":"pathtoprod-sbom-111111111111-eu-west-1"}`) {
		t.Errorf("build environment lacks the SBOM bucket: %s", env)
	}
	// The build role may store and read its path's SBOMs, and use the registry's SBOM key
	// through S3 only, found by its alias.
	got := compact(statementsOf(t, withRegistry(t, "dev"), "PipelineBuildRole"))
	for _, want := range []string{
		`{"Action":["s3:PutObject","s3:GetObject"],"Effect":"Allow","Resource":"arn:aws:s3:::pathtoprod-sbom-111111111111-eu-west-1/payments/checkout/*"}`,
		`{"Action":["kms:GenerateDataKey","kms:Decrypt"],"Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/pathtoprod-sbom"},` +
			`"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}},"Effect":"Allow","Resource":"arn:aws:kms:eu-west-1:111111111111:key/*"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("build role lacks %s:\n%s", want, got)
		}
	}
	// Nothing downstream makes an SBOM, and nothing without a registry.
	for _, tpl := range []interface {
		ToJSON() *map[string]interface{}
	}{withRegistry(t, "stg"), withRegistry(t, "prd"), defaults(t, "dev")} {
		if s := compact(*tpl.ToJSON()); strings.Contains(s, "syft") || strings.Contains(s, "pathtoprod-sbom") {
			t.Error("a pipeline that builds no image makes or grants an SBOM")
		}
	}
}

// The SBOM commands' shell, run with bash: stand-ins for the aws CLI and syft (neither can
// run here: no AWS, no registry) record what they are asked, so the key, the skip of a stored
// SBOM, the metadata and the failure handling are the real shell's.
func TestSbomCommandsSkipAStoredSbomAndStoreANewOneWithItsCommit(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const commit = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"
	run := func(t *testing.T, headExit, syftExit string) (string, error) {
		t.Helper()
		dir := t.TempDir()
		bin, tools := filepath.Join(dir, "bin"), filepath.Join(dir, "tools")
		for _, d := range []string{bin, tools} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		log := filepath.Join(dir, "calls")
		write := func(path, script string) {
			if err := os.WriteFile(path, []byte("#!/bin/bash\n"+script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		write(filepath.Join(bin, "aws"), `printf 'aws %s\n' "$*" >> "`+log+`"; [ "$2" = head-object ] && exit `+headExit+`; exit 0`)
		write(filepath.Join(tools, "syft"), `printf 'syft %s\n' "$*" >> "`+log+`"; out="${4#spdx-json=}"; echo '{"spdxVersion":"SPDX-2.3"}' > "$out"; exit `+syftExit)
		cmd := exec.Command("bash", "-c", strings.Join(envpipeline.SbomCommands, "\n")+"\n")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "SBOM_TOOLS="+tools, "SBOM_BUCKET=pathtoprod-sbom-111111111111-eu-west-1",
			"IMAGE_REPOSITORY=payments/checkout", "IMAGE_DIGEST="+digest, "COMMIT_ID="+commit, "REGISTRY_REGION=eu-west-1",
			"IMAGE_URI=111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@"+digest)
		out, err := cmd.CombinedOutput()
		calls, _ := os.ReadFile(log)
		return string(out) + "--- calls\n" + string(calls), err
	}
	key := checkout(t).SbomKey(digest) // what ship sbom reads
	t.Run("not stored yet: made from the registry by digest, stored with its commit", func(t *testing.T) {
		out, err := run(t, "254", "0")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, want := range []string{
			"aws s3api head-object --bucket pathtoprod-sbom-111111111111-eu-west-1 --key " + key + " --region eu-west-1\n",
			"syft scan registry:111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@" + digest + " -o spdx-json=",
			"aws s3api put-object --bucket pathtoprod-sbom-111111111111-eu-west-1 --key " + key + " --body ",
			" --content-type application/spdx+json --metadata " + org.SbomCommitMetadata + "=" + commit + " --region eu-west-1\n",
			"stored: s3://pathtoprod-sbom-111111111111-eu-west-1/" + key,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("stored already (a retried run): not regenerated", func(t *testing.T) {
		out, err := run(t, "0", "0")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if strings.Contains(out, "syft ") || strings.Contains(out, "put-object") || !strings.Contains(out, "already stored: s3://pathtoprod-sbom-111111111111-eu-west-1/"+key+" (not regenerated)") {
			t.Errorf("a stored SBOM was made again:\n%s", out)
		}
	})
	t.Run("syft fails: the build fails and nothing is stored", func(t *testing.T) {
		out, err := run(t, "254", "1")
		if err == nil || strings.Contains(out, "put-object") {
			t.Errorf("exit %v, want a failure without a put:\n%s", err, out)
		}
	})
}
