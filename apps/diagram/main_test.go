package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// template writes a minimal pipeline stack template of env whose Source action is of provider.
func template(t *testing.T, dir, path, env, provider, branch string) {
	t.Helper()
	source := map[string]any{"ActionTypeId": map[string]any{"Provider": provider}}
	if provider == "CodeStarSourceConnection" {
		source["Configuration"] = map[string]any{"FullRepositoryId": "example-org/search-indexer", "BranchName": branch}
	}
	tpl := map[string]any{"Resources": map[string]any{
		"Pipeline": map[string]any{"Type": "AWS::CodePipeline::Pipeline", "Properties": map[string]any{"Stages": []any{
			map[string]any{"Name": "Source", "Actions": []any{source}},
			map[string]any{"Name": "Deploy", "Actions": []any{}},
		}}},
	}}
	b, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, path+"-"+env+"-pipeline.template.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAConnectionSourceIsOneRepositoryWithABranchPerEnvironment(t *testing.T) {
	dir := t.TempDir()
	template(t, dir, "search-indexer", "dev", "CodeStarSourceConnection", "main")
	template(t, dir, "search-indexer", "prd", "CodeStarSourceConnection", "env/prd")
	out := filepath.Join(dir, "path.dot")
	if err := run(dir, "search-indexer", out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	dot := string(b)
	for _, want := range []string{`source_repo [label="git repository\nexample-org/search-indexer`, `source_repo -> dev_Source [label="branch main\nvia its connection"]`,
		`source_repo -> prd_Source [label="branch env/prd\nvia its connection"]`} {
		if !strings.Contains(dot, want) {
			t.Errorf("the diagram lacks %s:\n%s", want, dot)
		}
	}
	if strings.Contains(dot, "CodeCommit") || strings.Count(dot, `source_repo [label="git repository`) != 1 || !strings.Contains(dot, "a branch per account") {
		t.Errorf("a connection-sourced path drew a CodeCommit repository, or the repository twice:\n%s", dot)
	}

	// a CodeCommit path keeps a repository per account
	template(t, dir, "payments-checkout", "dev", "CodeCommit", "")
	if err := run(dir, "payments-checkout", out); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(out)
	if dot := string(b); !strings.Contains(dot, `dev_repo [label="CodeCommit\npayments-checkout"`) || strings.Contains(dot, "source_repo") {
		t.Errorf("CodeCommit path:\n%s", dot)
	}
}
