package checkout

import (
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func checkoutPath(t *testing.T) (org.Path, org.Registry) {
	t.Helper()
	o := org.Default()
	p, err := o.Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	return p, o.Registry
}

func env(overrides map[string]string) func(string) string {
	vars := map[string]string{
		VarImageURI:      "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@" + digest,
		VarEnvironment:   "prd",
		VarTargetAccount: "444444444444",
		VarTargetRegion:  "eu-west-1",
	}
	for k, v := range overrides {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnvAcceptsTheDeployStepsVariables(t *testing.T) {
	path, reg := checkoutPath(t)
	cfg, err := ConfigFromEnv(path, reg, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := registry.Image{Registry: "111111111111", Region: "eu-west-1", Repository: "payments/checkout", Digest: digest}
	if cfg.Image != want || cfg.Environment != "prd" || cfg.Account != "444444444444" || cfg.Region != "eu-west-1" {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Image.URI() != env(nil)(VarImageURI) {
		t.Errorf("URI %s", cfg.Image.URI())
	}
}

func TestConfigFromEnvNamesEveryProblem(t *testing.T) {
	path, reg := checkoutPath(t)
	repo := "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout"
	allowed := repo + "@sha256:<64 hex digits>: the path's image in the shared registry, by digest (a tag is never deployed)"
	for name, c := range map[string]struct {
		vars map[string]string
		want []string
	}{
		"a tag":            {map[string]string{VarImageURI: repo + ":v1"}, []string{`IMAGE_URI: "` + repo + `:v1": ` + allowed}},
		"tag and digest":   {map[string]string{VarImageURI: repo + ":v1@" + digest}, []string{`IMAGE_URI: "` + repo + `:v1@` + digest + `": ` + allowed}},
		"upper-case hex":   {map[string]string{VarImageURI: repo + "@" + strings.ToUpper(digest)}, []string{`IMAGE_URI: "` + repo + "@" + strings.ToUpper(digest) + `": ` + allowed}},
		"another registry": {map[string]string{VarImageURI: "999999999999.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@" + digest}, []string{`IMAGE_URI: "999999999999.`}},
		"unset":            {map[string]string{VarImageURI: ""}, []string{`IMAGE_URI: "": ` + allowed}},
		"unknown environment": {map[string]string{VarEnvironment: "qa"}, []string{
			`ENVIRONMENT: "qa": one of the environments of payments-checkout: dev, stg, prd`}},
		"another account": {map[string]string{VarTargetAccount: "333333333333"}, []string{
			`TARGET_ACCOUNT: "333333333333": the account of prd in payments-checkout, 444444444444`}},
		"another region": {map[string]string{VarTargetRegion: "eu-central-1"}, []string{
			`TARGET_REGION: "eu-central-1": the region of prd in payments-checkout, eu-west-1`,
			`IMAGE_URI: "` + repo + "@" + digest + `": an image in eu-central-1 (TARGET_REGION): a Lambda function pulls images only from its own region`}},
		"nothing set": {map[string]string{VarImageURI: "", VarEnvironment: "", VarTargetAccount: "", VarTargetRegion: ""}, []string{
			"4 problem(s)", `ENVIRONMENT: ""`, `TARGET_ACCOUNT: "": a 12-digit AWS account id`, `TARGET_REGION: ""`, `IMAGE_URI: ""`}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ConfigFromEnv(path, reg, env(c.vars))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}
