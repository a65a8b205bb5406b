package envpipeline_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// withRegistry returns the shared template of the checkout path's env pipeline with the
// default organisation's registry.
func withRegistry(t *testing.T, env string) assertions.Template {
	t.Helper()
	if tpl, ok := shared[env+"+registry"]; ok {
		return tpl
	}
	r := org.Default().Registry
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: env, Registry: &r})
	shared[env+"+registry"] = tpl
	return tpl
}

// imageBuilds counts the commands of every project that build a container image.
func imageBuilds(t *testing.T, tpl assertions.Template, projects int) (n int, privileged []string) {
	t.Helper()
	found := resources(tpl, "AWS::CodeBuild::Project")
	if len(found) != projects {
		t.Fatalf("want %d projects, got %d", projects, len(found))
	}
	for _, proj := range found {
		props := proj["Properties"].(map[string]interface{})
		for _, c := range buildCommands(t, props) {
			if strings.Contains(c, "docker build") || strings.Contains(c, "buildx") {
				n++
			}
		}
		if props["Environment"].(map[string]interface{})["PrivilegedMode"] == true {
			privileged = append(privileged, props["Name"].(string))
		}
	}
	return n, privileged
}

func TestTheImageIsBuiltOnceInTheFirstEnvironment(t *testing.T) {
	total := 0
	// SecretsScan, Build, Deploy and Verify in dev; Deploy and Verify downstream, and the Plan in prd.
	projects := map[string]int{"dev": 4, "stg": 2, "prd": 3}
	for _, env := range []string{"dev", "stg", "prd"} {
		n, privileged := imageBuilds(t, withRegistry(t, env), projects[env])
		total += n
		switch env {
		case "dev":
			if n != 1 || len(privileged) != 1 || privileged[0] != "payments-checkout-dev-build" {
				t.Errorf("dev: %d image builds, privileged %v; want 1 in the build step only", n, privileged)
			}
		default:
			if n != 0 || len(privileged) != 0 {
				t.Errorf("%s: %d image builds, privileged %v; want none", env, n, privileged)
			}
		}
	}
	if total != 1 {
		t.Errorf("image builds per promotion dev -> prd: %d, want 1", total)
	}
}

func TestDevBuildTagsWithTheCommitPushesAndExportsTheDigest(t *testing.T) {
	tpl := withRegistry(t, "dev")
	var build map[string]interface{}
	for _, proj := range resources(tpl, "AWS::CodeBuild::Project") {
		if p := proj["Properties"].(map[string]interface{}); p["Name"] == "payments-checkout-dev-build" {
			build = p
		}
	}
	if build == nil {
		t.Fatal("no project payments-checkout-dev-build")
	}
	cmds := strings.Join(buildCommands(t, build), "\n")
	for _, want := range []string{
		"make build\nmake test\n", // the service's own build and tests come first
		`export IMAGE_TAGGED="$IMAGE_REPOSITORY_URI:$COMMIT_ID"`,
		`docker build --tag "$IMAGE_TAGGED" . && docker push "$IMAGE_TAGGED"`,
		`--image-ids imageTag="$COMMIT_ID"`,
		`export IMAGE_URI="$IMAGE_REPOSITORY_URI@$IMAGE_DIGEST"`,
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("build commands lack %q:\n%s", want, cmds)
		}
	}
	spec := build["Source"].(map[string]interface{})["BuildSpec"].(string)
	if !strings.Contains(spec, `"exported-variables": [`) || !strings.Contains(spec, `"IMAGE_URI"`) {
		t.Errorf("build does not export IMAGE_URI: %s", spec)
	}
	if !strings.Contains(compact(build["Environment"]), `{"Name":"IMAGE_REPOSITORY_URI","Type":"PLAINTEXT","Value":"111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout"}`) {
		t.Errorf("build environment: %s", compact(build["Environment"]))
	}
	// The deploy and the verify in dev take the digest the build exported.
	image := assertions.Match_ObjectLike(&map[string]interface{}{
		"Configuration": assertions.Match_ObjectLike(&map[string]interface{}{
			"EnvironmentVariables": assertions.Match_SerializedJson(assertions.Match_ArrayWith(&[]interface{}{
				map[string]interface{}{"name": "IMAGE_URI", "type": "PLAINTEXT", "value": "#{Build.IMAGE_URI}"},
			})),
		}),
	})
	tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{
		"Stages": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Name":    "Deploy",
			"Actions": []interface{}{image, image},
		})}),
	})
	got := compact(statementsOf(t, tpl, "PipelineBuildRole"))
	for _, want := range []string{
		`{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*"}`,
		`{"Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:DescribeImages"],"Effect":"Allow","Resource":"arn:aws:ecr:eu-west-1:111111111111:repository/payments/checkout"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("build role lacks %s:\n%s", want, got)
		}
	}
}

func TestDownstreamDeploysTheDigestTheGuardResolved(t *testing.T) {
	for _, env := range []string{"stg", "prd"} {
		tpl := withRegistry(t, env)
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
				"IMAGE_REPOSITORY": "payments/checkout", "IMAGE_REGISTRY_ID": "111111111111", "IMAGE_REGION": "eu-west-1",
			})},
		})
		tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{
			"Stages": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Name": "Deploy",
				"Actions": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
					"Name": "Deploy",
					"Configuration": assertions.Match_ObjectLike(&map[string]interface{}{
						"EnvironmentVariables": assertions.Match_SerializedJson(assertions.Match_ArrayWith(&[]interface{}{
							// CDK sorts the variables by name; ArrayWith keeps order.
							map[string]interface{}{"name": "IMAGE_DIGEST", "type": "PLAINTEXT", "value": "#{Guard.ImageDigest}"},
							map[string]interface{}{"name": "IMAGE_URI", "type": "PLAINTEXT", "value": "#{Guard.ImageUri}"},
						})),
					}),
				})}),
			})}),
		})
		guard := compact(statementsOf(t, tpl, "PipelineGuardRole"))
		if want := `{"Action":["ecr:DescribeImages","ecr:DescribeImageScanFindings"],"Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:ecr:eu-west-1:111111111111:repository/payments/checkout"},"Sid":"FindCommitImageAndScan"}`; !strings.Contains(guard, want) {
			t.Errorf("%s guard role lacks %s:\n%s", env, want, guard)
		}
		deploy := compact(statementsOf(t, tpl, "PipelineDeployRole"))
		if want := `{"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Effect":"Allow","Resource":"arn:aws:ecr:eu-west-1:111111111111:repository/payments/checkout"}`; !strings.Contains(deploy, want) {
			t.Errorf("%s deploy role cannot pull cross-account:\n%s", env, deploy)
		}
	}
}

// A step placed before the stage that exports the image cannot reference its variables:
// CodePipeline rejects a reference to a namespace that has not run yet.
func TestStepsGetImageVariablesOnlyAfterTheImageIsKnown(t *testing.T) {
	r := org.Default().Registry
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "dev", Registry: &r}, func(p envpipeline.EnvPipeline) {
		p.AddStep("Lint", &envpipeline.StepProps{Commands: []string{"make lint"}, After: envpipeline.StageSecretsScan})
		p.AddStep("Scan", &envpipeline.StepProps{Commands: []string{"make scan"}, After: envpipeline.StageBuild})
	})
	vars := map[string]string{}
	for _, s := range only(t, tpl, "AWS::CodePipeline::Pipeline")["Properties"].(map[string]interface{})["Stages"].([]interface{}) {
		st := s.(map[string]interface{})
		a := st["Actions"].([]interface{})[0].(map[string]interface{})
		if ev, ok := a["Configuration"].(map[string]interface{})["EnvironmentVariables"].(string); ok {
			vars[st["Name"].(string)] = ev
		}
	}
	if got, want := stageNames(t, tpl), []string{"Source", "SecretsScan", "Lint", "Build", "Scan", "Deploy"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stages %v, want %v", got, want)
	}
	if !strings.Contains(vars["Lint"], "COMMIT_ID") || strings.Contains(vars["Lint"], "IMAGE_URI") {
		t.Errorf("Lint runs before Build: want the commit and not the image, got %s", vars["Lint"])
	}
	if !strings.Contains(vars["Scan"], "#{Build.IMAGE_URI}") {
		t.Errorf("Scan runs after Build but lacks the image: %s", vars["Scan"])
	}
}

// With an enhanced-scanning registry the guard may also list Inspector's findings, which
// ECR reads on its behalf; with basic scanning it may not.
func TestEnhancedScanningLetsTheGuardReadInspectorFindings(t *testing.T) {
	want := `{"Action":"inspector2:ListFindings","Effect":"Allow","Resource":"*","Sid":"ReadEnhancedScanFindings"}`
	if basic := compact(statementsOf(t, withRegistry(t, "prd"), "PipelineGuardRole")); strings.Contains(basic, "inspector2") {
		t.Errorf("with basic scanning the guard role may read Inspector:\n%s", basic)
	}
	r := org.Default().Registry
	r.Scanning = org.ScanningEnhanced
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "prd", Registry: &r})
	if got := compact(statementsOf(t, tpl, "PipelineGuardRole")); !strings.Contains(got, want) {
		t.Errorf("enhanced scanning: the guard role lacks %s:\n%s", want, got)
	}
}
