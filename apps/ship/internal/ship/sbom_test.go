package ship

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

const (
	digestNew = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestOld = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	// The registry of sbomFixture is in another region than the environments, so a call in the
	// wrong region shows.
	sbomBucket = "pathtoprod-sbom-111111111111-eu-central-1"
)

func sbomOf(digest string) []byte {
	return []byte(`{"spdxVersion":"SPDX-2.3","name":"` + digest + `","packages":[{"name":"openssl","versionInfo":"3.0.8"}]}` + "\n")
}

// sbomFixture is the ship fixture with the registry in eu-central-1 and SBOMs stored for two
// images: dev deployed c4 (image digestNew, built by dev-4's Build action), stg deployed c2
// (digestOld, resolved by stg-2's Guard), prd deployed c2 as well.
func sbomFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	cfg := filepath.Join(t.TempDir(), "organization.yaml")
	must(t, os.WriteFile(cfg, []byte(strings.Replace(orgYAML, "region: eu-west-1", "region: eu-central-1", 1)), 0o644))
	t.Setenv(EnvConfig, cfg)

	f.aws.SetRuns("payments-checkout-dev",
		run("dev-5", f.c(5), "Failed", mins(50)),
		run("dev-4", f.c(4), "Succeeded", mins(40)))
	f.aws.SetActionRuns("payments-checkout-dev",
		fakeaws.ActionRun{Execution: "dev-4", Stage: "SecretsScan", Action: "SecretsScan", Status: "Succeeded", Started: mins(31), Updated: mins(32)},
		fakeaws.ActionRun{Execution: "dev-4", Stage: "Build", Action: "Build", Status: "Succeeded", Started: mins(32), Updated: mins(36),
			Variables: map[string]string{"IMAGE_DIGEST": digestNew, "IMAGE_URI": "111111111111.dkr.ecr.eu-central-1.amazonaws.com/payments/checkout@" + digestNew}},
		fakeaws.ActionRun{Execution: "dev-5", Stage: "SecretsScan", Action: "SecretsScan", Status: "Failed", Started: mins(49), Updated: mins(50)})
	f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(2), "Succeeded", mins(25)))
	f.aws.SetRuns("payments-checkout-prd", run("prd-2", f.c(2), "Succeeded", mins(28)))
	for _, env := range []string{"stg", "prd"} {
		f.aws.SetActionRuns("payments-checkout-"+env,
			fakeaws.ActionRun{Execution: env + "-2", Stage: "Guard", Action: "CommitPassedUpstream", Status: "Succeeded", Started: mins(20), Updated: mins(21),
				Variables: map[string]string{"ImageDigest": digestOld, "Summary": "Verified commit"}})
	}
	f.aws.SetObject(sbomBucket, "payments/checkout/"+digestNew+".spdx.json", fakeaws.Object{Body: sbomOf(digestNew), Metadata: map[string]string{"commit": f.c(4)}})
	f.aws.SetObject(sbomBucket, "payments/checkout/"+digestOld+".spdx.json", fakeaws.Object{Body: sbomOf(digestOld), Metadata: map[string]string{"commit": f.c(2)}})
	return f
}

func TestSbomPrintsTheSbomOfTheImageTheEnvironmentRuns(t *testing.T) {
	f := sbomFixture(t)
	// WHEN ship sbom dev runs THEN stdout is the SBOM of dev-4's image, nothing else (dev-5,
	// the newer run, failed its SecretsScan: nothing of it is deployed)
	code, out, _ := f.ship("sbom", "dev")
	if code != ExitOK || out != string(sbomOf(digestNew)) {
		t.Fatalf("exit %d, stdout %q; want the SBOM of %s", code, out, digestNew)
	}
	// It was read with dev's credentials, from the registry's bucket, in the registry's region.
	get, ok := f.aws.Last("GetObject")
	if !ok {
		t.Fatal("no GetObject call")
	}
	if get.AccessKey != keyDev || get.Region != "eu-central-1" || get.Input["Bucket"] != sbomBucket || get.Input["Key"] != "payments/checkout/"+digestNew+".spdx.json" {
		t.Errorf("GetObject %+v: want dev's key %s, the registry's region eu-central-1 and bucket %s", get, keyDev, sbomBucket)
	}
	// The key is the one the pipelines write (org.Path.SbomKey of the digest).
	p, err := org.Default().Path("payments", "checkout")
	must(t, err)
	if get.Input["Key"] != p.SbomKey(digestNew) {
		t.Errorf("key %v, want %s", get.Input["Key"], p.SbomKey(digestNew))
	}
}

func TestSbomWritesToAFileAndSaysWhatItWrote(t *testing.T) {
	f := sbomFixture(t)
	file := filepath.Join(t.TempDir(), "prd.spdx.json")
	code, out, _ := f.ship("sbom", "prd", "-o", file)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	got, err := os.ReadFile(file)
	must(t, err)
	if string(got) != string(sbomOf(digestOld)) {
		t.Errorf("file holds %q, want the SBOM of prd's image %s (resolved by its Guard)", got, digestOld)
	}
	want := "prd: wrote the SBOM of image " + digestOld + " (commit " + f.c(2)[:7] + ", execution prd-2) to " + file +
		" (" + strconv.Itoa(len(got)) + " bytes, from s3://" + sbomBucket + "/payments/checkout/" + digestOld + ".spdx.json)\n"
	if out != want {
		t.Errorf("stdout\n got %q\nwant %q", out, want)
	}
	if get, _ := f.aws.Last("GetObject"); get.AccessKey != keyPrd {
		t.Errorf("read with key %s, want prd's %s", get.AccessKey, keyPrd)
	}
}

// A ROLLBACK run re-runs only the rolled-back stage: the image is its target's.
func TestSbomOfARolledBackEnvironmentIsItsTargetsImage(t *testing.T) {
	f := sbomFixture(t)
	f.aws.SetRuns("payments-checkout-stg",
		fakeaws.Run{ID: "stg-4", Commit: f.c(2), Status: "Succeeded", At: mins(60), Type: "ROLLBACK", RollbackTarget: "stg-2"},
		run("stg-3", f.c(3), "Failed", mins(50)),
		run("stg-2", f.c(2), "Succeeded", mins(25)))
	f.aws.SetActionRuns("payments-checkout-stg",
		fakeaws.ActionRun{Execution: "stg-2", Stage: "Guard", Action: "CommitPassedUpstream", Status: "Succeeded", Started: mins(20), Updated: mins(21),
			Variables: map[string]string{"ImageDigest": digestOld}},
		fakeaws.ActionRun{Execution: "stg-3", Stage: "Guard", Action: "CommitPassedUpstream", Status: "Succeeded", Started: mins(40), Updated: mins(41),
			Variables: map[string]string{"ImageDigest": digestNew}},
		fakeaws.ActionRun{Execution: "stg-4", Stage: "Deploy", Action: "Deploy", Status: "Succeeded", Started: mins(55), Updated: mins(58)})
	code, out, _ := f.ship("sbom", "stg")
	if code != ExitOK || out != string(sbomOf(digestOld)) {
		t.Errorf("exit %d, stdout %q; want the SBOM of the rollback target's image %s", code, out, digestOld)
	}
}

func TestSbomErrorsSayWhatIsMissingAndWhatToDo(t *testing.T) {
	cases := []struct {
		name  string
		env   string
		setup func(f *fixture)
		want  []string
	}{
		{"nothing deployed", "prd", func(f *fixture) {
			f.aws.SetRuns("payments-checkout-prd", run("prd-1", f.c(1), "Failed", mins(10)))
		}, []string{"ship: prd runs nothing yet: pipeline payments-checkout-prd has no successful run, so there is no deployed image and no SBOM (ship status prd shows its runs)"}},
		{"a path without the registry: no image", "dev", func(f *fixture) {
			f.aws.SetActionRuns("payments-checkout-dev", fakeaws.ActionRun{Execution: "dev-4", Stage: "Build", Action: "Build", Status: "Succeeded", Started: mins(32), Updated: mins(36)})
		}, []string{"ship: dev runs commit ", " (execution dev-4), which has no image: its Build action output no IMAGE_DIGEST, " +
			"so the path's pipelines build no image (they were made without the shared registry) and there is no SBOM"}},
		{"no action says which image", "stg", func(f *fixture) {
			f.aws.SetActionRuns("payments-checkout-stg")
		}, []string{"(execution stg-2), but that execution has no succeeded CommitPassedUpstream action in stage Guard to say which image it resolved"}},
		{"no SBOM stored for the digest", "dev", func(f *fixture) {
			f.aws.SetObject(sbomBucket, "", fakeaws.Object{}) // the bucket exists, with the other image's SBOM only
			f.aws.SetActionRuns("payments-checkout-dev", fakeaws.ActionRun{Execution: "dev-4", Stage: "Build", Action: "Build", Status: "Succeeded",
				Started: mins(32), Updated: mins(36), Variables: map[string]string{"IMAGE_DIGEST": "sha256:" + strings.Repeat("3", 64)}})
		}, []string{"ship: no SBOM at s3://" + sbomBucket + "/payments/checkout/sha256:" + strings.Repeat("3", 64) + ".spdx.json: the SBOM of dev's image",
			"may predate SBOMs"}},
		{"access denied", "stg", func(f *fixture) {
			f.aws.Fail("GetObject", fakeaws.Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"}, -1)
		}, []string{"ship: access denied reading the SBOM of stg's image " + digestOld,
			"with environment stg's credentials (account 333333333333; AccessDenied: Access Denied)",
			"The identity needs s3:GetObject on arn:aws:s3:::" + sbomBucket + "/payments/checkout/* and kms:Decrypt on the registry's SBOM key (alias/pathtoprod-sbom in account 111111111111, eu-central-1)"}},
		{"unknown environment", "qa", func(f *fixture) {}, []string{`ship: unknown environment "qa" for payments/checkout (known: dev, stg, prd)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := sbomFixture(t)
			c.setup(f)
			code, out, errOut := f.ship("sbom", c.env)
			if code == ExitOK || out != "" {
				t.Errorf("exit %d, stdout %q: want a failure and no SBOM", code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}
