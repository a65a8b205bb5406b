package gitcat

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadFindsCommitsAndTreesAndLeavesOutWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	git := func(env []string, args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.com",
			"GIT_COMMITTER_NAME=Carl <not> Committer", "GIT_COMMITTER_EMAIL=c@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z")
		cmd.Env = append(cmd.Env, env...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
		return strings.TrimSpace(string(b))
	}
	git(nil, "init", "-q")
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(nil, "add", "f")
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	git([]string{"GIT_COMMITTER_DATE=" + at.In(time.FixedZone("", 5*3600)).Format(time.RFC3339)}, "commit", "-q", "-m", "one")
	commit, tree := git(nil, "rev-parse", "HEAD"), git(nil, "rev-parse", "HEAD^{tree}")
	missing := strings.Repeat("ab", 20)

	objs, err := Read(context.Background(), dir, []string{commit, missing, tree})

	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[commit].Type != "commit" || objs[tree].Type != "tree" {
		t.Fatalf("objects %v, want the commit and the tree, and not %s", objs, missing)
	}
	if !strings.HasPrefix(string(objs[commit].Body), "tree "+tree+"\n") || !strings.HasSuffix(string(objs[commit].Body), "\none\n") {
		t.Errorf("commit body %q", objs[commit].Body)
	}
	// A name holding '<' and '>' does not move the date: it follows the last '>'.
	if got, ok := CommitterDate(objs[commit].Body); !ok || !got.Equal(at) {
		t.Errorf("committer date %v, %v; want %v", got, ok, at)
	}
	if _, ok := CommitterDate([]byte("tree x\n\ncommitter in the message 1 +0000\n")); ok {
		t.Error("a committer line after the headers was read")
	}
	if _, err := Read(context.Background(), t.TempDir(), []string{commit}); err == nil || !strings.Contains(err.Error(), "git cat-file --batch in ") {
		t.Errorf("outside a repository: %v", err)
	}
}
