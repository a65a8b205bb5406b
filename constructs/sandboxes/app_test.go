package sandboxes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// env is a stand-in for os.Getenv.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNameFromTheVariableOrTheContext(t *testing.T) {
	overflow := filepath.Join(t.TempDir(), "context-overflow.json")
	if err := os.WriteFile(overflow, []byte(`{"sandbox":"carol","big":"…"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		vars map[string]string
		want string
	}{
		"outside a sandbox":                {nil, ""},
		"set empty":                        {map[string]string{"SANDBOX": "", "CDK_CONTEXT_JSON": `{"sandbox":""}`}, ""},
		"other context only":               {map[string]string{"CDK_CONTEXT_JSON": `{"@aws-cdk/core:newStyleStackSynthesis":true}`}, ""},
		"the variable":                     {map[string]string{"SANDBOX": "alice"}, "alice"},
		"the context":                      {map[string]string{"CDK_CONTEXT_JSON": `{"sandbox":"bob","other":1}`}, "bob"},
		"both, agreeing (a sandbox build)": {map[string]string{"SANDBOX": "alice", "CDK_CONTEXT_JSON": `{"sandbox":"alice"}`}, "alice"},
		"the context's overflow file":      {map[string]string{"CDK_CONTEXT_JSON": `{}`, "CONTEXT_OVERFLOW_LOCATION_ENV": overflow}, "carol"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := lookupName(env(c.vars), os.ReadFile)
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestNameRefusesWhatIsNoSandboxName(t *testing.T) {
	for name, c := range map[string]struct {
		vars map[string]string
		want string
	}{
		"a bad variable": {map[string]string{"SANDBOX": "Alice"},
			`SANDBOX: "Alice": it is not lowercase letters and digits in runs joined by single hyphens, starting with a letter; allowed: ` + org.AllowedSandboxName},
		"a bad context": {map[string]string{"CDK_CONTEXT_JSON": `{"sandbox":"a/b"}`}, `context sandbox: "a/b": it is not lowercase`},
		"a long name":   {map[string]string{"SANDBOX": strings.Repeat("a", 21)}, `SANDBOX: "aaaaaaaaaaaaaaaaaaaaa": 21 characters is longer than 20`},
		"two names": {map[string]string{"SANDBOX": "alice", "CDK_CONTEXT_JSON": `{"sandbox":"bob"}`},
			`SANDBOX: "alice" and context sandbox: "bob": the same sandbox name in both, or only one of them`},
		"a number":         {map[string]string{"CDK_CONTEXT_JSON": `{"sandbox":7}`}, `context sandbox: 7: a sandbox name as a string, e.g. --context sandbox=alice`},
		"garbled context":  {map[string]string{"CDK_CONTEXT_JSON": `{"sandbox":`}, `CDK_CONTEXT_JSON: the CDK CLI's context as a JSON object: unexpected end of JSON input`},
		"no overflow file": {map[string]string{"CONTEXT_OVERFLOW_LOCATION_ENV": "/nonexistent/context.json"}, `CONTEXT_OVERFLOW_LOCATION_ENV: "/nonexistent/context.json": the CDK CLI's context file, readable`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := lookupName(env(c.vars), os.ReadFile)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, %v; want an error containing %q", got, err, c.want)
			}
		})
	}
}

// Name, Suffix and StackName read the process's environment; Name panics on a bad name.
func TestStackNameAndSuffix(t *testing.T) {
	t.Setenv("CDK_CONTEXT_JSON", "")
	t.Setenv("CONTEXT_OVERFLOW_LOCATION_ENV", "")
	t.Setenv("SANDBOX", "")
	if got := StackName("checkout-app"); got != "checkout-app" || Suffix() != "" || Name() != "" {
		t.Errorf("outside a sandbox: StackName %q, Suffix %q, Name %q; want the base name and nothing else", got, Suffix(), Name())
	}
	t.Setenv("SANDBOX", "alice")
	if got := StackName("checkout-app"); got != "checkout-app-sandbox-alice" || Suffix() != org.SandboxStackSuffix("alice") || Name() != "alice" {
		t.Errorf("in sandbox alice: StackName %q, Suffix %q, Name %q", got, Suffix(), Name())
	}
	t.Setenv("SANDBOX", "$(id)")
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, `sandboxes: SANDBOX: "$(id)": `) {
			t.Errorf("a bad name: panic %q, want one naming the variable and its value", msg)
		}
	}()
	StackName("checkout-app")
	t.Error("a bad name did not panic")
}
