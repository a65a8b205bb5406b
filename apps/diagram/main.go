// Command diagram draws one service path from a synthesized cloud assembly: each
// environment account with its pipeline's stages in order (read from the templates), the
// shared registry, and the cross-account links (the guard's read of upstream history, the
// image push, check and pulls). It writes Graphviz DOT, and a PNG when Graphviz's `dot` is
// installed (Debian: apt-get install graphviz).
//
//	make synth
//	go run ./apps/diagram -assembly cdk.out -path payments-checkout -o apps/diagram/path.png
//
// It reads only the templates, so what it draws is what would be deployed: a CodeCommit
// repository in every account, or the one GitHub, GitLab or Bitbucket repository whose
// branches the pipelines follow through their connections.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	assembly := flag.String("assembly", "cdk.out", "cloud assembly directory (make synth writes cdk.out)")
	path := flag.String("path", "payments-checkout", "the path to draw: <team>-<service>")
	out := flag.String("o", "apps/diagram/path.png", "output file: .png (needs Graphviz dot) or .dot")
	flag.Parse()
	if err := run(*assembly, *path, *out); err != nil {
		fmt.Fprintln(os.Stderr, "diagram:", err)
		os.Exit(1)
	}
}

// environment is what the diagram shows of one environment's stack.
type environment struct {
	name, account, region string
	stages                []string
	upstream              string // from the guard's UPSTREAM_ENVIRONMENT
	image                 bool   // the guard checks the registry
	builds                bool   // has a privileged (image) build
	// repository and branch are a connection source's (GitHub, GitLab, Bitbucket): the one
	// repository every environment follows a branch of; "" for a CodeCommit source, where
	// each account has its own repository.
	provider, repository, branch string
}

func run(assembly, path, out string) error {
	files, err := filepath.Glob(filepath.Join(assembly, path+"-*-pipeline.template.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no templates for path %q in %s (run make synth first, or check -path)", path, assembly)
	}
	var envs []environment
	for _, f := range files {
		e, err := readEnvironment(f, path)
		if err != nil {
			return err
		}
		envs = append(envs, e)
	}
	order(envs)
	dot := render(path, envs)
	if strings.HasSuffix(out, ".dot") {
		return os.WriteFile(out, dot, 0o644)
	}
	bin, err := exec.LookPath("dot")
	if err != nil {
		return fmt.Errorf("graphviz's dot is not installed (apt-get install graphviz), or write -o file.dot")
	}
	cmd := exec.Command(bin, "-Tpng", "-Gdpi=110", "-o", out)
	cmd.Stdin = bytes.NewReader(dot)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dot: %v\n%s", err, msg)
	}
	return nil
}

func readEnvironment(file, path string) (environment, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return environment{}, err
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string          `json:"Type"`
			Properties json.RawMessage `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return environment{}, fmt.Errorf("%s: %v", file, err)
	}
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), path+"-"), "-pipeline.template.json")
	e := environment{name: name}
	for _, r := range tpl.Resources {
		switch r.Type {
		case "AWS::CodePipeline::Pipeline":
			var p struct {
				Stages []struct {
					Name    string
					Actions []struct {
						ActionTypeID  struct{ Provider string } `json:"ActionTypeId"`
						Configuration map[string]interface{}
					}
				} `json:"Stages"`
			}
			json.Unmarshal(r.Properties, &p)
			for _, s := range p.Stages {
				e.stages = append(e.stages, s.Name)
				for _, a := range s.Actions {
					if a.ActionTypeID.Provider == "CodeStarSourceConnection" {
						e.provider = "connection"
						e.repository, _ = a.Configuration["FullRepositoryId"].(string)
						e.branch, _ = a.Configuration["BranchName"].(string)
					}
				}
			}
		case "AWS::Lambda::Function":
			var f struct {
				Environment struct{ Variables map[string]interface{} } `json:"Environment"`
			}
			json.Unmarshal(r.Properties, &f)
			if up, ok := f.Environment.Variables["UPSTREAM_ENVIRONMENT"].(string); ok {
				e.upstream = up
				_, e.image = f.Environment.Variables["IMAGE_REPOSITORY"]
			}
		case "AWS::CodeBuild::Project":
			var p struct {
				Environment struct {
					PrivilegedMode       bool
					EnvironmentVariables []struct {
						Name  string
						Value interface{}
					}
				}
			}
			json.Unmarshal(r.Properties, &p)
			e.builds = e.builds || p.Environment.PrivilegedMode
			// Every step is told the account and region it deploys to.
			for _, v := range p.Environment.EnvironmentVariables {
				if s, ok := v.Value.(string); ok && v.Name == "TARGET_ACCOUNT" {
					e.account = s
				} else if ok && v.Name == "TARGET_REGION" {
					e.region = s
				}
			}
		}
	}
	return e, nil
}

// order sorts environments from the first (no upstream) along the upstream chain.
func order(envs []environment) {
	rank := map[string]int{}
	var depth func(name string, seen int) int
	byName := map[string]environment{}
	for _, e := range envs {
		byName[e.name] = e
	}
	depth = func(name string, seen int) int {
		e, ok := byName[name]
		if !ok || e.upstream == "" || seen > len(envs) {
			return 0
		}
		return 1 + depth(e.upstream, seen+1)
	}
	for _, e := range envs {
		rank[e.name] = depth(e.name, 0)
	}
	sort.SliceStable(envs, func(i, j int) bool { return rank[envs[i].name] < rank[envs[j].name] })
}

func render(path string, envs []environment) []byte {
	var b bytes.Buffer
	w := func(format string, a ...interface{}) { fmt.Fprintf(&b, format+"\n", a...) }
	w(`digraph path {`)
	w(`  rankdir=LR; compound=true; newrank=true; fontname="Helvetica"; labelloc=t; fontsize=18;`)
	how := "git push per account"
	for _, e := range envs {
		if e.repository != "" {
			how = "a branch per account"
		}
	}
	w(`  label=%q;`, "Path to production of "+path+": "+how+", built once, promoted by digest")
	w(`  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=11];`)
	w(`  edge [fontname="Helvetica", fontsize=10];`)
	w(`  dev_person [label="team\n(git push / ship)", shape=ellipse, fillcolor="#fff7d6"];`)
	w(`  subgraph cluster_registry { label="registry account\n(shared)"; style="rounded,filled"; fillcolor="#eef6ee";`)
	w(`    ecr [label="ECR %s\nimmutable commit tags\nscan on push", shape=cylinder, fillcolor="#d8f0d8"]; }`, strings.Replace(path, "-", "/", 1))
	external := ""
	for _, e := range envs {
		if e.repository != "" && external == "" {
			external = e.repository
			w(`  source_repo [label="git repository\n%s\n(one branch per environment)", shape=folder, fillcolor="#dde6f7"];`, e.repository)
			w(`  dev_person -> source_repo [label="git push / ship"];`)
		}
	}
	for _, e := range envs {
		w(`  subgraph cluster_%s { label="%s account %s (%s)"; style="rounded,filled"; fillcolor="#eef2fb";`, e.name, e.name, e.account, e.region)
		prev := e.name + "_repo"
		if e.repository == "" {
			w(`    %s_repo [label="CodeCommit\n%s", shape=folder, fillcolor="#dde6f7"];`, e.name, path)
		} else {
			prev = "source_repo"
		}
		for _, s := range e.stages {
			id := e.name + "_" + s
			label, fill := s, "#ffffff"
			switch s {
			case "Guard":
				label, fill = "Guard\n(commit passed "+e.upstream+"?\nimage exists?)", "#fde2e2"
			case "Approval":
				label, fill = "Approval\n(approver role)", "#fff0c2"
			case "Build":
				label = "Build & test\n+ the one image build"
			case "Deploy":
				label = "Deploy\ncdk deploy --all\n(image by digest)"
			}
			w(`    %s [label=%q, fillcolor=%q];`, id, label, fill)
			if prev == "source_repo" {
				w(`    %s -> %s [label=%q];`, prev, id, "branch "+e.branch+"\nvia its connection")
			} else {
				w(`    %s -> %s;`, prev, id)
			}
			prev = id
		}
		if hasDownstream(envs, e.name) {
			w(`    %s_reader [label="reader role\n(read-only history)", shape=note, fillcolor="#f3e8fb"];`, e.name)
		}
		w(`  }`)
		if e.repository == "" {
			w(`  dev_person -> %s_repo [label="git push %s"];`, e.name, e.name)
		}
	}
	for _, e := range envs {
		if e.upstream != "" {
			w(`  %s_Guard -> %s_reader [style=dashed, color="#8e44ad", label="assume role"];`, e.name, e.upstream)
			if e.image {
				w(`  %s_Guard -> ecr [style=dashed, color="#27ae60", label="image for commit?"];`, e.name)
			}
		}
		if e.builds {
			w(`  %s_Build -> ecr [color="#27ae60", penwidth=2, label="push :<commit>"];`, e.name)
		}
		w(`  ecr -> %s_Deploy [color="#27ae60", style=dotted, label="pull @sha256"];`, e.name)
	}
	w(`}`)
	return b.Bytes()
}

func hasDownstream(envs []environment, name string) bool {
	for _, e := range envs {
		if e.upstream == name {
			return true
		}
	}
	return false
}
