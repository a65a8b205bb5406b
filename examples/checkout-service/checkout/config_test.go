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

// sandboxEnv is what a sandbox's build sets in dev: its name, and the image it pushed to the
// path's sandbox repository there.
func sandboxEnv(overrides map[string]string) func(string) string {
	vars := map[string]string{
		"SANDBOX":        "alice",
		VarImageURI:      "222222222222.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout/sandboxes@" + digest,
		VarEnvironment:   "dev",
		VarTargetAccount: "222222222222",
		VarTargetRegion:  "eu-west-1",
	}
	for k, v := range overrides {
		vars[k] = v
	}
	return env(vars)
}

func TestConfigFromEnvInASandbox(t *testing.T) {
	path, reg := checkoutPath(t)
	cfg, err := ConfigFromEnv(path, reg, sandboxEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := registry.Image{Registry: "222222222222", Region: "eu-west-1", Repository: "payments/checkout/sandboxes", Digest: digest}
	if cfg.Sandbox != "alice" || cfg.Image != want || cfg.Environment != "dev" {
		t.Errorf("config %+v", cfg)
	}
	// The name may come as the CDK CLI's context instead (cdk synth -c sandbox=alice).
	cfg, err = ConfigFromEnv(path, reg, sandboxEnv(map[string]string{"SANDBOX": "", "CDK_CONTEXT_JSON": `{"sandbox":"alice"}`}))
	if err != nil || cfg.Sandbox != "alice" {
		t.Errorf("from the context: %+v, %v", cfg, err)
	}
	// Outside a sandbox, no sandbox.
	if cfg, err := ConfigFromEnv(path, reg, env(nil)); err != nil || cfg.Sandbox != "" {
		t.Errorf("outside a sandbox: %+v, %v", cfg, err)
	}
}

func TestConfigFromEnvKeepsSandboxAndPromotedImagesApart(t *testing.T) {
	path, reg := checkoutPath(t)
	shared := "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@" + digest
	sandboxRepo := "222222222222.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout/sandboxes"
	for name, c := range map[string]struct {
		getenv func(string) string
		want   []string
	}{
		"a sandbox running the promoted image": {sandboxEnv(map[string]string{VarImageURI: shared}), []string{
			`IMAGE_URI: "` + shared + `": ` + sandboxRepo + `@sha256:<64 hex digits>: in sandbox alice, the image its build pushed to the path's sandbox repository in the environment's own account, by digest`}},
		"an environment running a sandbox's image": {env(map[string]string{VarImageURI: sandboxRepo + "@" + digest}), []string{
			`IMAGE_URI: "` + sandboxRepo + "@" + digest + `": 111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@sha256:<64 hex digits>: the path's image in the shared registry`}},
		"a sandbox in stg": {sandboxEnv(map[string]string{VarEnvironment: "stg", VarTargetAccount: "333333333333",
			VarImageURI: "333333333333.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout/sandboxes@" + digest}), []string{
			`ENVIRONMENT: "stg": dev, the first environment of payments-checkout, in sandbox alice: sandboxes live only there`}},
		"a bad sandbox name": {sandboxEnv(map[string]string{"SANDBOX": "Alice"}), []string{
			`SANDBOX: "Alice": it is not lowercase letters and digits in runs joined by single hyphens, starting with a letter; allowed: `}},
		"two sandbox names": {sandboxEnv(map[string]string{"CDK_CONTEXT_JSON": `{"sandbox":"bob"}`}), []string{
			`SANDBOX: "alice" and context sandbox: "bob": the same sandbox name in both, or only one of them`}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ConfigFromEnv(path, reg, c.getenv)
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
