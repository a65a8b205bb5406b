package test

// The SecretsScan, run for real: the commands of the dev pipeline's SecretsScan step, taken
// from the synthesized template, run with bash in temporary trees (what the CodeCommit source
// artifact is: the commit's files, no .git), installing and running the pinned gitleaks.
//
//	make install   # builds .tools/gitleaks-<version>/gitleaks and warms the go caches
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run SecretsScan -v
//
// The secrets are made at run time, so this repository carries none.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
)

// gitleaksInstalled fails (under CI) or skips the test unless make install built the pinned
// gitleaks: then the module is in the go command's cache and its build cache is warm, so the
// step's own go install takes a second.
func gitleaksInstalled(t *testing.T) {
	t.Helper()
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "GITLEAKS_VERSION := " + envpipeline.GitleaksVersion + "\n"; !strings.Contains(string(makefile), want) {
		t.Fatalf("the Makefile does not install the gitleaks the pipeline pins: want the line %q", want)
	}
	bin := filepath.Join("..", ".tools", "gitleaks-"+envpipeline.GitleaksVersion, "gitleaks")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("gitleaks %s is not installed (%v): CI runs make install first, which builds it", envpipeline.GitleaksVersion, err)
		}
		t.Skipf("gitleaks %s is not installed at %s: run make install (CI fails here instead of skipping)", envpipeline.GitleaksVersion, bin)
	}
}

// scanStep is the dev pipeline's SecretsScan commands, as synthesized, installed: it runs
// every command before the scan once (the tools directory, the go install), as CodeBuild
// would in the step's shell, and returns the scan command and the environment they left.
func scanStep(t *testing.T) (scan string, env []string) {
	t.Helper()
	var tpl exTemplate
	readJSON(t, filepath.Join(defaultSynthesis(t).dir, "payments-checkout-dev-pipeline.template.json"), &tpl)
	_, _, cmds := tpl.project(t, "payments-checkout-dev-secretsscan")
	if len(cmds) != 3 || cmds[2] != envpipeline.SecretsScanCommand {
		t.Fatalf("the SecretsScan step is not: tools directory, install, scan: %q", cmds)
	}
	// The step keeps the go caches where its project caches them; here they are the
	// developer's own, which make install warmed. Nothing else of the command changes.
	install, stepCaches := cmds[1], `GOMODCACHE="`+envpipeline.SecretsScanCache+`/mod" GOCACHE="`+envpipeline.SecretsScanCache+`/build" `
	if !strings.Contains(install, stepCaches) {
		t.Fatalf("the install command does not set the step's go caches %q:\n%s", stepCaches, install)
	}
	modcache, gocache := goEnv(t, "GOMODCACHE"), goEnv(t, "GOCACHE")
	install = strings.Replace(install, stepCaches, `GOMODCACHE="`+modcache+`" GOCACHE="`+gocache+`" `, 1)
	setup := exec.Command("bash", "-c", cmds[0]+"\n"+install+` || exit $?`+"\n"+`printf '%s' "$SECRETS_SCAN_TOOLS"`)
	// Offline: the module comes from what make install fetched (the module cache is a proxy).
	setup.Env = append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(filepath.Join(modcache, "cache", "download")))
	setup.Stderr = os.Stderr
	out, err := setup.Output()
	if err != nil {
		t.Fatalf("the SecretsScan's install commands: %v", err)
	}
	tools := string(out)
	t.Cleanup(func() { os.RemoveAll(tools) })
	version, err := exec.Command("go", "version", "-m", filepath.Join(tools, "gitleaks")).CombinedOutput()
	if err != nil || !regexp.MustCompile(`\bmod\s+`+regexp.QuoteMeta(envpipeline.GitleaksModule)+`\s+`+regexp.QuoteMeta(envpipeline.GitleaksVersion)+`\s`).Match(version) {
		t.Fatalf("the step installed no gitleaks %s: %v\n%s", envpipeline.GitleaksVersion, err, version)
	}
	return cmds[2], []string{"SECRETS_SCAN_TOOLS=" + tools, "COMMIT_ID=" + scanCommit}
}

const scanCommit = "0123456789abcdef0123456789abcdef01234567"

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// runScan runs the scan command in a tree of files (path -> content) and returns its output
// and whether it passed.
func runScan(t *testing.T, scan string, env []string, files map[string]string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "-c", scan)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}

// awsKeyPair is an access key id and secret key of AWS's shapes, random.
func awsKeyPair(t *testing.T) (id, secret string) {
	t.Helper()
	return "AKIA" + randomString(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
		randomString(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40)
}

func randomString(t *testing.T, alphabet string, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// privateKey is a fresh EC private key, PEM-encoded (PKCS #8), and its base64 body's first line.
func privateKey(t *testing.T) (pemText, bodyLine string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pemText = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return pemText, strings.Split(pemText, "\n")[1]
}

var fingerprint = regexp.MustCompile(`\(fingerprint for \.gitleaksignore: ([^)]+)\)`)

func TestSecretsScanStopsACommitWithASecretAndNothingElse(t *testing.T) {
	gitleaksInstalled(t)
	scan, env := scanStep(t)
	keyID, keySecret := awsKeyPair(t)
	credentials := "AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + keySecret + "\n"
	code := map[string]string{
		"main.go":   "package main\n\nfunc main() { println(\"checkout\") }\n",
		"README.md": "# checkout\n\nSet AWS_ACCESS_KEY_ID in your shell, never in this repository.\n",
	}
	with := func(extra map[string]string) map[string]string {
		files := map[string]string{}
		for k, v := range code {
			files[k] = v
		}
		for k, v := range extra {
			files[k] = v
		}
		return files
	}
	// noSecret fails the test if out shows any of the secrets.
	noSecret := func(t *testing.T, out string, secrets ...string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("the output shows the secret %q:\n%s", s, out)
			}
		}
	}

	t.Run("a clean commit passes", func(t *testing.T) {
		out, ok := runScan(t, scan, env, code)
		if !ok || !strings.Contains(out, "SecretsScan: no secrets found in "+scanCommit+".") {
			t.Errorf("passed %v:\n%s", ok, out)
		}
	})

	var found []string // the fingerprints of the AWS key pair, as the failed scan printed them
	t.Run("an AWS key pair fails it, named by file, line and rule, never shown", func(t *testing.T) {
		out, ok := runScan(t, scan, env, with(map[string]string{"config/prod.env": credentials}))
		if ok {
			t.Fatalf("passed:\n%s", out)
		}
		for _, want := range []string{
			"SecretsScan FAILED: ", " possible secret(s) in " + scanCommit,
			"  config/prod.env:1: aws-access-token: ", "(fingerprint for .gitleaksignore: config/prod.env:aws-access-token:1)",
			"The run stops here: nothing of " + scanCommit + " is built, pushed or deployed.",
			"add its fingerprint as a line of .gitleaksignore at the repository root",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		noSecret(t, out, keyID, keySecret, keySecret[:20])
		for _, m := range fingerprint.FindAllStringSubmatch(out, -1) {
			found = append(found, m[1])
		}
	})

	t.Run("a private key fails it, never shown", func(t *testing.T) {
		key, body := privateKey(t)
		out, ok := runScan(t, scan, env, with(map[string]string{"deploy/signing.pem": key}))
		if ok || !strings.Contains(out, "  deploy/signing.pem:1: private-key: ") {
			t.Errorf("passed %v, or the finding is not named:\n%s", ok, out)
		}
		noSecret(t, out, body, body[:24])
	})

	t.Run("the findings' fingerprints in .gitleaksignore let it pass", func(t *testing.T) {
		if len(found) == 0 {
			t.Fatal("the failing scan printed no fingerprint to allow-list (see the subtest above): nothing to test the ignore file with")
		}
		out, ok := runScan(t, scan, env, with(map[string]string{
			"config/prod.env": credentials,
			".gitleaksignore": "# test fixtures, reviewed in PR 42\n" + strings.Join(found, "\n") + "\n",
		}))
		if !ok {
			t.Errorf("the fingerprints %q did not allow the findings:\n%s", found, out)
		}
		// Only those: the same secret on another line is another finding.
		out, ok = runScan(t, scan, env, with(map[string]string{
			"config/prod.env": "\n" + credentials,
			".gitleaksignore": strings.Join(found, "\n") + "\n",
		}))
		if ok || !strings.Contains(out, "config/prod.env:aws-access-token:2") {
			t.Errorf("a fingerprint allowed another line's finding:\n%s", out)
		}
	})

	t.Run("a .gitleaks.toml in the commit cannot weaken the rules", func(t *testing.T) {
		hostile := "title = \"allow everything\"\n[allowlist]\ndescription = \"nothing is a secret\"\npaths = ['''.*''']\nregexes = ['''.*''']\n"
		files := with(map[string]string{"config/prod.env": credentials, ".gitleaks.toml": hostile})
		// The file would silence gitleaks, were it gitleaks' configuration (its default when no
		// --config is given): so the scan passing would mean the commit chose its rules.
		dir := t.TempDir()
		for name, content := range files {
			os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
		tools := strings.TrimPrefix(env[0], "SECRETS_SCAN_TOOLS=")
		if out, err := exec.Command(filepath.Join(tools, "gitleaks"), "dir", dir, "--no-banner").CombinedOutput(); err != nil {
			t.Fatalf("the hostile configuration does not silence gitleaks by itself (%v), so this case proves nothing:\n%s", err, out)
		}
		// Nor through the environment (a pipeline-wide variable, say).
		out, ok := runScan(t, scan, append(env, "GITLEAKS_CONFIG="+filepath.Join(dir, ".gitleaks.toml")), files)
		if ok || !strings.Contains(out, "config/prod.env:1: aws-access-token: ") {
			t.Errorf("the commit's .gitleaks.toml silenced the scan:\n%s", out)
		}
	})

	t.Run("a gitleaks:allow comment on the line lets it pass", func(t *testing.T) {
		line := "AWS_ACCESS_KEY_ID=" + keyID + " # gitleaks:allow (the documented example key of our runbook)\n"
		out, ok := runScan(t, scan, env, with(map[string]string{"docs/runbook.env": line}))
		if !ok {
			t.Errorf("gitleaks:allow did not allow the line:\n%s", out)
		}
		out, ok = runScan(t, scan, env, with(map[string]string{"docs/runbook.env": strings.Replace(line, "gitleaks:allow", "reviewed", 1)}))
		if ok {
			t.Errorf("the same line without gitleaks:allow passed:\n%s", out)
		}
	})

	t.Run("gitleaks failing without a verdict fails the step", func(t *testing.T) {
		broken := t.TempDir()
		os.WriteFile(filepath.Join(broken, "gitleaks"), []byte("#!/bin/sh\necho 'cannot read the tree' >&2\nexit 2\n"), 0o755)
		out, ok := runScan(t, scan, []string{"SECRETS_SCAN_TOOLS=" + broken, "COMMIT_ID=" + scanCommit}, code)
		if ok || !strings.Contains(out, "SecretsScan FAILED: gitleaks exited with status 2 without a verdict") {
			t.Errorf("passed %v:\n%s", ok, out)
		}
	})

	t.Run("this repository's own tree passes", func(t *testing.T) {
		// The commit as CodeCommit would hand it to the step: its files, no .git.
		tree := t.TempDir()
		archive := exec.Command("bash", "-c", `git archive HEAD | tar -x -C "$1"`, "archive", tree)
		archive.Dir = ".."
		if out, err := archive.CombinedOutput(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI runs in a clean clone, yet git archive failed (%v): %s", err, out)
			}
			t.Skipf("no git checkout to archive (%v): %s", err, out)
		}
		cmd := exec.Command("bash", "-c", scan)
		cmd.Dir, cmd.Env = tree, append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("the scan blocks this repository: %v\n%s", err, out)
		}
	})
}
