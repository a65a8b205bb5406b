package envpipeline_test

// The sandbox machinery as the pipeline creates it, asserted on one synthesis shared by every
// test here: the default organisation's payments/checkout path (which has sandboxes) in dev
// with the registry and without one, in one app with cdk-nag's packs; stg and prd of it are
// built, not synthesized. A path without sandboxes is the shared checkout stack of the other
// tests.

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes"
)

// sandboxPath is the default organisation's payments/checkout path as it is: with sandboxes
// (max 3, TTL 72h).
func sandboxPath(t *testing.T) org.Path {
	t.Helper()
	p, err := org.Default().Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	if p.SandboxLimit() != 3 || p.SandboxTTL().String() != "72h0m0s" {
		t.Fatalf("the default organisation's checkout has sandboxes %+v, the tests expect max 3, ttl 72h", p.Sandboxes)
	}
	return p
}

// sandboxSynthesis is the one synthesis of this file.
type sandboxSynthesis struct {
	// image: dev with the registry; noImage: dev without one.
	image, noImage assertions.Template
	// By stack id: Image, NoImage, and Stg and Prd (with the registry, not synthesized).
	pipelines map[string]envpipeline.EnvPipeline
	stacks    map[string]awscdk.Stack
}

var sandboxOnce = sync.OnceValue(func() *sandboxSynthesis {
	p, err := org.Default().Path("payments", "checkout")
	if err != nil {
		panic(err)
	}
	r := org.Default().Registry
	// stg and prd are only built, in an app of their own that is never synthesized: what they
	// must lack is read from the construct tree (synthesis is what costs time).
	app, downstream := awscdk.NewApp(nil), awscdk.NewApp(nil)
	s := &sandboxSynthesis{pipelines: map[string]envpipeline.EnvPipeline{}, stacks: map[string]awscdk.Stack{}}
	for _, c := range []struct {
		id, env  string
		registry *org.Registry
	}{{"Image", "dev", &r}, {"NoImage", "dev", nil}, {"Stg", "stg", &r}, {"Prd", "prd", &r}} {
		e, _ := p.Environment(c.env)
		scope := app
		if c.env != "dev" {
			scope = downstream
		}
		stack := awscdk.NewStack(scope, jsii.String(c.id), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String(e.Account), Region: jsii.String(e.Region)},
		})
		s.stacks[c.id] = stack
		s.pipelines[c.id] = envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &envpipeline.EnvPipelineProps{Path: p, Environment: c.env, Registry: c.registry})
		if c.env == "dev" {
			// LogIgnores: a suppressed finding is reported, so the tests see the packs ran.
			awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{LogIgnores: jsii.Bool(true)}), nil)
			awscdk.Aspects_Of(stack).Add(cdknag.NewNIST80053R5Checks(&cdknag.NagPackProps{LogIgnores: jsii.Bool(true)}), nil)
		}
	}
	s.image = assertions.Template_FromStack(s.stacks["Image"], nil)
	s.noImage = assertions.Template_FromStack(s.stacks["NoImage"], nil)
	return s
})

func sandboxStacks(t *testing.T) *sandboxSynthesis {
	t.Helper()
	sandboxPath(t)
	return sandboxOnce()
}

// props is a resource's properties.
func props(r map[string]interface{}) map[string]interface{} {
	return r["Properties"].(map[string]interface{})
}

// sbIDs are the logical ids the sandbox resources refer to, found by their names.
type sbIDs struct {
	fn, fnRole, fnLogs, project, projectRole, projectLogs, table, images, repo, topic, topicKey, key, bucket string
}

func sandboxIDs(t *testing.T, tpl assertions.Template, image bool) sbIDs {
	t.Helper()
	ids := sbIDs{
		fn:          idOf(t, tpl, "AWS::Lambda::Function", "FunctionName", "payments-checkout-dev-sandboxes"),
		fnLogs:      idOf(t, tpl, "AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/payments-checkout-dev-sandboxes"),
		project:     idOf(t, tpl, "AWS::CodeBuild::Project", "Name", "payments-checkout-dev-sandbox"),
		projectRole: idOf(t, tpl, "AWS::IAM::Role", "RoleName", "payments-checkout-dev-sandbox"),
		table:       idOf(t, tpl, "AWS::DynamoDB::Table", "TableName", "payments-checkout-dev-sandboxes"),
		repo:        idOf(t, tpl, "AWS::CodeCommit::Repository", "RepositoryName", "payments-checkout"),
		topic:       idOf(t, tpl, "AWS::SNS::Topic", "TopicName", "payments-checkout-dev-notifications"),
	}
	if image {
		ids.images = idOf(t, tpl, "AWS::ECR::Repository", "RepositoryName", "payments/checkout/sandboxes")
	}
	fn := props(resources(tpl, "AWS::Lambda::Function")[ids.fn])
	ids.fnRole = fn["Role"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
	proj := props(resources(tpl, "AWS::CodeBuild::Project")[ids.project])
	ids.key = proj["EncryptionKey"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
	ids.projectLogs = proj["LogsConfig"].(map[string]interface{})["CloudWatchLogs"].(map[string]interface{})["GroupName"].(map[string]interface{})["Ref"].(string)
	ids.topicKey = props(resources(tpl, "AWS::SNS::Topic")[ids.topic])["KmsMasterKeyId"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
	// The pipeline's artifact store is the bucket the pipeline names.
	pipeline := only(t, tpl, "AWS::CodePipeline::Pipeline")
	ids.bucket = props(pipeline)["ArtifactStore"].(map[string]interface{})["Location"].(map[string]interface{})["Ref"].(string)
	if ids.key != props(pipeline)["ArtifactStore"].(map[string]interface{})["EncryptionKey"].(map[string]interface{})["Id"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0] {
		t.Fatalf("the sandbox project's key %s is not the pipeline's artifact key", ids.key)
	}
	return ids
}

func getAtt(id, attr string) string { return `{"Fn::GetAtt":["` + id + `","` + attr + `"]}` }
func ref(id string) string          { return `{"Ref":"` + id + `"}` }

// policyOf is the one policy attached to role, failing when another policy names it too or
// the role has managed policies.
func policyOf(t *testing.T, tpl assertions.Template, role string) []interface{} {
	t.Helper()
	var found []interface{}
	n := 0
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		if strings.Contains(compact(props(pol)["Roles"]), `"`+role+`"`) {
			n++
			found = props(pol)["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{})
		}
	}
	if n != 1 {
		t.Fatalf("%d policies attached to %s, want exactly 1", n, role)
	}
	if m := props(resources(tpl, "AWS::IAM::Role")[role])["ManagedPolicyArns"]; m != nil {
		t.Errorf("%s has managed policies %s", role, compact(m))
	}
	return found
}

func TestSandboxRulesSendBranchesBuildsAndTheSweepToTheController(t *testing.T) {
	tpl := sandboxStacks(t).image
	ids := sandboxIDs(t, tpl, true)
	want := map[string]string{
		// Exactly this repository's sandbox/ branches, as they are created, pushed to or deleted.
		"branches": `{"detail":{"event":["referenceCreated","referenceUpdated","referenceDeleted"],"referenceName":[{"prefix":"sandbox/"}],"referenceType":["branch"]},` +
			`"detail-type":["CodeCommit Repository State Change"],"resources":[` + getAtt(ids.repo, "Arn") + `],"source":["aws.codecommit"]}`,
		// Exactly the sandbox project's finished builds.
		"builds": `{"detail":{"build-status":["SUCCEEDED","FAILED","STOPPED"],"project-name":["payments-checkout-dev-sandbox"]},` +
			`"detail-type":["CodeBuild Build State Change"],"source":["aws.codebuild"]}`,
		"sweep": `"rate(15 minutes)"`,
	}
	got := map[string]string{}
	var rules []string
	for id, r := range resources(tpl, "AWS::Events::Rule") {
		p := props(r)
		if !strings.Contains(compact(p["Targets"]), ids.fn) {
			continue
		}
		rules = append(rules, id)
		if targets := compact(p["Targets"]); targets != `[{"Arn":`+getAtt(ids.fn, "Arn")+`,"Id":"Target0"}]` {
			t.Errorf("rule %s has targets %s, want the controller only", id, targets)
		}
		switch {
		case p["ScheduleExpression"] != nil:
			got["sweep"] = compact(p["ScheduleExpression"])
		case strings.Contains(compact(p["EventPattern"]), "aws.codecommit"):
			got["branches"] = compact(p["EventPattern"])
		default:
			got["builds"] = compact(p["EventPattern"])
		}
		// EventBridge may invoke the controller for this rule, and only for it.
		perm := 0
		for _, pr := range resources(tpl, "AWS::Lambda::Permission") {
			if compact(props(pr)["SourceArn"]) == getAtt(id, "Arn") {
				perm++
				if compact(props(pr)) != `{"Action":"lambda:InvokeFunction","FunctionName":`+getAtt(ids.fn, "Arn")+`,"Principal":"events.amazonaws.com","SourceArn":`+getAtt(id, "Arn")+`}` {
					t.Errorf("permission for %s: %s", id, compact(props(pr)))
				}
			}
		}
		if perm != 1 {
			t.Errorf("%d Lambda permissions for rule %s, want 1", perm, id)
		}
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules invoke the controller, want 3 (branches, builds, sweep): %v", len(rules), rules)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s rule\n got %s\nwant %s", k, got[k], w)
		}
	}
}

func TestSandboxControllerIsConfiguredFromThePath(t *testing.T) {
	tpl := sandboxStacks(t).image
	ids := sandboxIDs(t, tpl, true)
	fn := props(resources(tpl, "AWS::Lambda::Function")[ids.fn])
	wantVars := `{"BUCKET":` + ref(ids.bucket) + `,"ENVIRONMENT":"dev","MAX_SANDBOXES":"3","PATH_ID":"payments-checkout",` +
		`"PROJECT_NAME":"payments-checkout-dev-sandbox","REPOSITORY_NAME":` + getAtt(ids.repo, "Name") + `,` +
		`"SANDBOX_TTL":"72h0m0s","SANDBOX_WARNING":"18h0m0s","TABLE_NAME":` + ref(ids.table) + `,"TOPIC_ARN":` + ref(ids.topic) + `}`
	if got := compact(fn["Environment"].(map[string]interface{})["Variables"]); got != wantVars {
		t.Errorf("controller variables\n got %s\nwant %s", got, wantVars)
	}
	for k, want := range map[string]string{
		"Runtime": `"provided.al2023"`, "Architectures": `["arm64"]`, "Handler": `"bootstrap"`, "Timeout": `60`,
		// Failed asynchronous invocations reach the team's topic.
		"DeadLetterConfig":             `{"TargetArn":` + ref(ids.topic) + `}`,
		"LoggingConfig":                `{"LogGroup":` + ref(ids.fnLogs) + `}`,
		"ReservedConcurrentExecutions": `null`,
	} {
		if got := compact(fn[k]); got != want {
			t.Errorf("controller %s: %s, want %s", k, got, want)
		}
	}
	for _, logs := range []string{ids.fnLogs, ids.projectLogs} {
		l := resources(tpl, "AWS::Logs::LogGroup")[logs]
		if compact(props(l)["KmsKeyId"]) != getAtt(ids.key, "Arn") || l["DeletionPolicy"] != "Retain" {
			t.Errorf("log group %s: key %s, deletion %v; want the artifact key, retained", logs, compact(props(l)["KmsKeyId"]), l["DeletionPolicy"])
		}
	}
}

func TestSandboxControllerRoleStatementsAreExact(t *testing.T) {
	tpl := sandboxStacks(t).image
	ids := sandboxIDs(t, tpl, true)
	want := `[` +
		`{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":` + getAtt(ids.fnLogs, "Arn") + `,"Sid":"WriteItsLogs"},` +
		`{"Action":["dynamodb:GetItem","dynamodb:PutItem"],"Effect":"Allow","Resource":` + getAtt(ids.table, "Arn") + `,"Sid":"ReadAndWriteTheRecord"},` +
		`{"Action":["kms:Decrypt","kms:DescribeKey","kms:Encrypt","kms:GenerateDataKey*","kms:ReEncrypt*"],` +
		`"Condition":{"StringEquals":{"kms:ViaService":"dynamodb.eu-west-1.amazonaws.com"}},"Effect":"Allow","Resource":` + getAtt(ids.key, "Arn") + `,"Sid":"UseTheTableKey"},` +
		`{"Action":["codebuild:StartBuild","codebuild:StopBuild","codebuild:BatchGetBuilds"],"Effect":"Allow","Resource":` + getAtt(ids.project, "Arn") + `,"Sid":"StartAndStopSandboxBuilds"},` +
		`{"Action":"sns:Publish","Effect":"Allow","Resource":` + ref(ids.topic) + `,"Sid":"Notify"},` +
		`{"Action":["kms:Decrypt","kms:GenerateDataKey"],"Condition":{"StringEquals":{"kms:ViaService":"sns.eu-west-1.amazonaws.com"}},` +
		`"Effect":"Allow","Resource":` + getAtt(ids.topicKey, "Arn") + `,"Sid":"UseTheTopicKey"}]`
	if got := compact(policyOf(t, tpl, ids.fnRole)); got != want {
		t.Errorf("controller role statements\n got %s\nwant %s", got, want)
	}
	role := props(resources(tpl, "AWS::IAM::Role")[ids.fnRole])
	if got := compact(role["AssumeRolePolicyDocument"].(map[string]interface{})["Statement"]); got != `[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}]` {
		t.Errorf("controller role trust: %s", got)
	}
}

// The project runs the pushed commit's code: it may deploy and destroy through the CDK
// bootstrap roles, keep assemblies under sandboxes/, push sandbox images, and nothing about
// the record, the notifications, CodeBuild or CodePipeline.
func TestSandboxProjectRoleStatementsAreExact(t *testing.T) {
	s := sandboxStacks(t)
	common := func(ids sbIDs) string {
		bootstrap := func(r string) string {
			return `{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-` + r + `-role-${AWS::AccountId}-${AWS::Region}"}`
		}
		return `{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":` + getAtt(ids.projectLogs, "Arn") + `,"Sid":"WriteItsLogs"},` +
			`{"Action":"codecommit:GitPull","Effect":"Allow","Resource":` + getAtt(ids.repo, "Arn") + `,"Sid":"CloneTheRepository"},` +
			`{"Action":"sts:AssumeRole","Effect":"Allow","Resource":[` + bootstrap("deploy") + `,` + bootstrap("file-publishing") + `,` +
			bootstrap("image-publishing") + `,` + bootstrap("lookup") + `],"Sid":"AssumeCdkBootstrapRoles"},` +
			`{"Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Effect":"Allow","Resource":{"Fn::Join":["",[` + getAtt(ids.bucket, "Arn") + `,"/sandboxes/*"]]},"Sid":"KeepAssemblies"},` +
			`{"Action":"s3:ListBucket","Condition":{"StringLike":{"s3:prefix":"sandboxes/*"}},"Effect":"Allow","Resource":` + getAtt(ids.bucket, "Arn") + `,"Sid":"FindAssemblies"},` +
			`{"Action":["kms:Decrypt","kms:Encrypt","kms:ReEncrypt*","kms:GenerateDataKey*"],"Effect":"Allow","Resource":` + getAtt(ids.key, "Arn") + `,"Sid":"UseTheArtifactKey"}`
	}
	for name, c := range map[string]struct {
		tpl   assertions.Template
		image bool
	}{"with an image": {s.image, true}, "without an image": {s.noImage, false}} {
		t.Run(name, func(t *testing.T) {
			ids := sandboxIDs(t, c.tpl, c.image)
			want := `[` + common(ids)
			if c.image {
				want += `,{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*","Sid":"LogInToECR"},` +
					`{"Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:DescribeImages"],` +
					`"Effect":"Allow","Resource":` + getAtt(ids.images, "Arn") + `,"Sid":"PushSandboxImages"}`
			}
			want += `]`
			got := compact(policyOf(t, c.tpl, ids.projectRole))
			if got != want {
				t.Errorf("project role statements\n got %s\nwant %s", got, want)
			}
			for _, service := range []string{"dynamodb:", "sns:", "codebuild:", "codepipeline:"} {
				if strings.Contains(got, `"`+service) {
					t.Errorf("the project role may use %s*", service)
				}
			}
			if trust := compact(props(resources(c.tpl, "AWS::IAM::Role")[ids.projectRole])["AssumeRolePolicyDocument"]); !strings.Contains(trust, `"Principal":{"Service":"codebuild.amazonaws.com"}`) {
				t.Errorf("project role trust: %s", trust)
			}
		})
	}
}

func TestSandboxProjectBuildsAsThePipelineDoes(t *testing.T) {
	s := sandboxStacks(t)
	for name, c := range map[string]struct {
		tpl   assertions.Template
		image bool
	}{"with an image": {s.image, true}, "without an image": {s.noImage, false}} {
		t.Run(name, func(t *testing.T) {
			ids := sandboxIDs(t, c.tpl, c.image)
			p := props(resources(c.tpl, "AWS::CodeBuild::Project")[ids.project])
			if got := compact(p["Source"].(map[string]interface{})["Location"]); p["Source"].(map[string]interface{})["Type"] != "CODECOMMIT" || got != getAtt(ids.repo, "CloneUrlHttp") {
				t.Errorf("source %s, want this environment's repository", compact(p["Source"]))
			}
			env := p["Environment"].(map[string]interface{})
			vars := `[{"Name":"BUCKET","Type":"PLAINTEXT","Value":` + ref(ids.bucket) + `},` +
				`{"Name":"ENVIRONMENT","Type":"PLAINTEXT","Value":"dev"},` +
				`{"Name":"PATH_ID","Type":"PLAINTEXT","Value":"payments-checkout"},` +
				`{"Name":"PIPELINE_NAME","Type":"PLAINTEXT","Value":"payments-checkout-dev"},`
			if c.image {
				vars += `{"Name":"SANDBOX_IMAGE_REPOSITORY","Type":"PLAINTEXT","Value":{"Fn::Join":["",[` +
					`{"Fn::Select":[4,{"Fn::Split":[":",` + getAtt(ids.images, "Arn") + `]}]},".dkr.ecr.",` +
					`{"Fn::Select":[3,{"Fn::Split":[":",` + getAtt(ids.images, "Arn") + `]}]},".",{"Ref":"AWS::URLSuffix"},"/",` + ref(ids.images) + `]]}},`
			}
			vars += `{"Name":"TARGET_ACCOUNT","Type":"PLAINTEXT","Value":"222222222222"},{"Name":"TARGET_REGION","Type":"PLAINTEXT","Value":"eu-west-1"}]`
			if got := compact(env["EnvironmentVariables"]); got != vars {
				t.Errorf("project variables\n got %s\nwant %s", got, vars)
			}
			// A Docker daemon only to build the image.
			if env["PrivilegedMode"] != c.image {
				t.Errorf("PrivilegedMode %v, want %v", env["PrivilegedMode"], c.image)
			}
			for k, want := range map[string]string{
				"EncryptionKey": getAtt(ids.key, "Arn"), "ServiceRole": getAtt(ids.projectRole, "Arn"), "TimeoutInMinutes": "60",
				// No cache: the build runs the commit's code, which could write into one.
				"Cache": `{"Type":"NO_CACHE"}`,
			} {
				if got := compact(p[k]); got != want {
					t.Errorf("project %s: %s, want %s", k, got, want)
				}
			}
			if got := compact(env["ComputeType"]) + compact(env["Image"]); got != `"BUILD_GENERAL1_SMALL""aws/codebuild/amazonlinux-aarch64-standard:3.0"` {
				t.Errorf("project machine %s, want the pipeline steps' default", got)
			}

			// The commands: the checks, then the deploy's in order, then the destroy, each run
			// for its action only.
			cmds := buildCommands(t, p)
			deploy := func(c string) string { return `if [ "$SANDBOX_ACTION" = deploy ]; then` + "\n" + c + "\nfi" }
			want := []string{sandboxes.NameCheckCommand, sandboxes.WriteCheckCommand}
			for _, s := range envpipeline.SandboxSecretsScanCommands {
				want = append(want, deploy(s))
			}
			want = append(want, deploy("make build"), deploy("make test"))
			if c.image {
				want = append(want, deploy(`export IMAGE_TAGGED="$SANDBOX_IMAGE_REPOSITORY:$SANDBOX-$COMMIT_ID"`))
			}
			at := 0
			for _, w := range want {
				if at >= len(cmds) || cmds[at] != w {
					t.Fatalf("command %d is %q, want %q", at, cmds[min(at, len(cmds)-1)], w)
				}
				at++
			}
			all := strings.Join(cmds, "\n")
			for _, s := range []string{`docker build --tag "$IMAGE_TAGGED" . && docker push "$IMAGE_TAGGED"`, `export IMAGE_URI="$SANDBOX_IMAGE_REPOSITORY@$IMAGE_DIGEST"`} {
				if strings.Contains(all, s) != c.image {
					t.Errorf("%q in the commands: %v, want %v", s, !c.image, c.image)
				}
			}
			if last := cmds[len(cmds)-1]; last != `if [ "$SANDBOX_ACTION" = destroy ]; then`+"\n"+sandboxes.DestroyCommand+"\nfi" {
				t.Errorf("the last command is not the destroy: %q", last)
			}
		})
	}
	// The secrets scan is the pipeline's, without the SecretsScan step's cache.
	if got, want := envpipeline.SandboxSecretsScanCommands[2], envpipeline.SecretsScanCommand; got != want {
		t.Error("the sandbox's scan command is not the pipeline's")
	}
	if strings.Contains(strings.Join(envpipeline.SandboxSecretsScanCommands, "\n"), "GOCACHE") ||
		strings.Join(envpipeline.SandboxSecretsScanCommands[1:], "") == strings.Join(envpipeline.SecretsScanCommands[1:], "") {
		t.Error("the sandbox's scan uses the SecretsScan step's go caches")
	}
}

func TestSandboxStateIsRetainedEncryptedAndRecoverable(t *testing.T) {
	tpl := sandboxStacks(t).image
	ids := sandboxIDs(t, tpl, true)
	table := resources(tpl, "AWS::DynamoDB::Table")[ids.table]
	want := `{"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","DeletionProtectionEnabled":true,` +
		`"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":true},` +
		`"SSESpecification":{"KMSMasterKeyId":` + getAtt(ids.key, "Arn") + `,"SSEEnabled":true,"SSEType":"KMS"},"TableName":"payments-checkout-dev-sandboxes"}`
	if got := compact(props(table)); got != want {
		t.Errorf("table\n got %s\nwant %s", got, want)
	}
	if table["DeletionPolicy"] != "Retain" || table["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("table DeletionPolicy %v, UpdateReplacePolicy %v: want both Retain", table["DeletionPolicy"], table["UpdateReplacePolicy"])
	}
}

func TestSandboxImagesStayInTheirOwnRepository(t *testing.T) {
	s := sandboxStacks(t)
	ids := sandboxIDs(t, s.image, true)
	repo := resources(s.image, "AWS::ECR::Repository")[ids.images]
	p := props(repo)
	var lifecycle struct {
		Rules []struct {
			Selection map[string]interface{} `json:"selection"`
			Action    map[string]interface{} `json:"action"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(p["LifecyclePolicy"].(map[string]interface{})["LifecyclePolicyText"].(string)), &lifecycle); err != nil {
		t.Fatal(err)
	}
	// 72h is 3 days: images expire a day later.
	if len(lifecycle.Rules) != 1 || compact(lifecycle.Rules[0].Selection) != `{"countNumber":4,"countType":"sinceImagePushed","countUnit":"days","tagStatus":"any"}` ||
		compact(lifecycle.Rules[0].Action) != `{"type":"expire"}` {
		t.Errorf("lifecycle %s, want every image expired 4 days after its push", compact(lifecycle))
	}
	for k, want := range map[string]string{
		"RepositoryName": `"payments/checkout/sandboxes"`, "ImageTagMutability": `"IMMUTABLE"`, "EmptyOnDelete": "true",
		"ImageScanningConfiguration": `{"ScanOnPush":true}`,
		"RepositoryPolicyText": `{"Statement":[{"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],` +
			`"Condition":{"StringLike":{"aws:sourceArn":{"Fn::Sub":"arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"}}},` +
			`"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Sid":"LambdaPullForSandboxFunctions"}],"Version":"2012-10-17"}`,
	} {
		if got := compact(p[k]); got != want {
			t.Errorf("repository %s: %s, want %s", k, got, want)
		}
	}
	if repo["DeletionPolicy"] != "Delete" {
		t.Errorf("repository DeletionPolicy %v, want Delete (images are rebuilt from git)", repo["DeletionPolicy"])
	}
	// The shared registry is not in this account: nothing here may push to it, or pull from it
	// but the pipeline's deploy.
	if n := len(resources(s.image, "AWS::ECR::Repository")); n != 1 {
		t.Errorf("%d ECR repositories in dev, want the sandbox one only", n)
	}
	s.noImage.ResourceCountIs(jsii.String("AWS::ECR::Repository"), jsii.Number(0))
}

// Everything sandboxes adds: where there are no sandboxes there is none of it.
func sandboxResources(tpl assertions.Template) []string {
	var found []string
	for id, r := range (*tpl.ToJSON())["Resources"].(map[string]interface{}) {
		j := compact(r)
		if strings.Contains(id, "Sandboxes") || r.(map[string]interface{})["Type"] == "AWS::DynamoDB::Table" ||
			strings.Contains(j, "-sandbox") || strings.Contains(j, "sandbox/") {
			found = append(found, id)
		}
	}
	return found
}

func TestNoSandboxesWhereThereAreNone(t *testing.T) {
	s := sandboxStacks(t)
	if found := sandboxResources(s.image); len(found) < 10 {
		t.Fatalf("the check finds only %v in a stack with sandboxes: it would find nothing anywhere", found)
	}
	if found := sandboxResources(defaults(t, "dev")); len(found) > 0 {
		t.Errorf("dev of a path without sandboxes has sandbox resources %v", found)
	}
	// stg and prd of the path with sandboxes: no construct of the machinery, no resource of a
	// type only it creates.
	for _, id := range []string{"Stg", "Prd"} {
		for _, c := range *s.stacks[id].Node().FindAll(constructs.ConstructOrder_PREORDER) {
			path := *c.Node().Path()
			if strings.Contains(path, "Sandbox") {
				t.Errorf("%s has the construct %s", id, path)
			}
			if r, ok := c.(awscdk.CfnResource); ok {
				switch typ := *r.CfnResourceType(); typ {
				case "AWS::DynamoDB::Table", "AWS::ECR::Repository":
					t.Errorf("%s has a %s: %s", id, typ, path)
				}
			}
		}
	}
	for id, p := range s.pipelines {
		if got := p.Sandboxes() != nil; got != (id == "Image" || id == "NoImage") {
			t.Errorf("%s: Sandboxes() returns a construct: %v", id, got)
		}
	}
	sb := s.pipelines["Image"].Sandboxes()
	if sb.Function() == nil || sb.Project() == nil || sb.ProjectRole() == nil || sb.Table() == nil || sb.ImageRepository() == nil ||
		sb.BranchRule() == nil || sb.BuildRule() == nil || sb.SweepRule() == nil {
		t.Error("the sandboxes construct lacks one of its parts")
	}
	if s.pipelines["NoImage"].Sandboxes().ImageRepository() != nil {
		t.Error("without a registry, ImageRepository is not nil")
	}
	if got := *s.pipelines["Image"].Sandboxes().Node().Path(); got != "Image/Pipeline/Sandboxes" {
		t.Errorf("the sandboxes construct is at %s", got)
	}
}

func TestSandboxesHaveNoNagErrors(t *testing.T) {
	s := sandboxStacks(t)
	for _, id := range []string{"Image", "NoImage"} {
		a := assertions.Annotations_FromStack(s.stacks[id])
		for _, e := range *a.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"))) {
			t.Errorf("%s: %s %v", id, *e.Id, e.Entry.Data)
		}
		// Both packs ran on the sandbox resources: their accepted findings were reported.
		for path, rule := range map[string]string{
			"/" + id + "/Pipeline/Sandboxes/State/Resource":         "NIST.800.53.R5-DynamoDBInBackupPlan",
			"/" + id + "/Pipeline/Sandboxes/Controller/Resource":    "NIST.800.53.R5-LambdaConcurrency",
			"/" + id + "/Pipeline/Sandboxes/ProjectPolicy/Resource": "AwsSolutions-IAM5",
		} {
			if len(*a.FindInfo(jsii.String(path), assertions.Match_StringLikeRegexp(jsii.String(rule)))) == 0 {
				t.Errorf("%s: no suppressed %s on %s: the pack did not check it", id, rule, path)
			}
		}
	}
}

// A step named Sandbox would take the sandbox project's name: refused in every environment,
// in any case, naming the field and the value.
func TestAddStepRefusesTheSandboxProjectsName(t *testing.T) {
	s := sandboxStacks(t)
	for _, c := range []struct{ stack, name string }{{"Image", "Sandbox"}, {"Stg", "sandbox"}, {"Prd", "SANDBOX"}} {
		msg := panicMessage(func() {
			s.pipelines[c.stack].AddStep(c.name, &envpipeline.StepProps{Commands: []string{"make it"}})
		})
		if !strings.Contains(msg, `name: "`+c.name+`": not "Sandbox" in any case: a step's project is `) ||
			!strings.Contains(msg, "payments-checkout-dev-sandbox is the name of the sandbox project") {
			t.Errorf("%s: AddStep(%q): %s", c.stack, c.name, msg)
		}
	}
}

func TestSandboxPropsListEveryProblem(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Props"), nil)
	msg := panicMessage(func() { sandboxes.New(stack, jsii.String("None"), nil) })
	for _, want := range []string{
		"sandboxes: invalid props:",
		`Path: "": a path with sandboxes (org.Service.Sandboxes); this one has none`,
		"Repository: nil: the first environment's CodeCommit repository",
		"Topic: nil: ", "Key: nil: ", "Bucket: nil: ",
		"Commands.SecretsScan: []: the pipeline's secrets scan commands",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("nil props: the message lacks %q:\n%s", want, msg)
		}
	}
	p := sandboxPath(t)
	r := org.Default().Registry
	for name, c := range map[string]struct {
		props sandboxes.Props
		want  string
	}{
		"not the first environment": {sandboxes.Props{Path: p, Environment: "stg"},
			`Environment: "stg": the path's first environment (the one without an upstream), where sandboxes live; stg follows dev`},
		"no such environment": {sandboxes.Props{Path: p, Environment: "qa"}, `Environment: "qa": the path's first environment: path payments-checkout has no environment "qa"`},
		"an image without commands": {sandboxes.Props{Path: p, Environment: "dev", Registry: &r},
			`Commands.Image: []: the commands that build the image tagged "$IMAGE_TAGGED", with a Registry`},
		"a reserved variable": {sandboxes.Props{Path: p, Environment: "dev", EnvironmentVariables: map[string]*awscodebuild.BuildEnvironmentVariable{"SANDBOX": {Value: jsii.String("x")}}},
			`EnvironmentVariables: "SANDBOX": a name other than the ones the sandbox project or its controller set`},
	} {
		t.Run(name, func(t *testing.T) {
			if msg := panicMessage(func() { sandboxes.New(stack, jsii.String("S"), &c.props) }); !strings.Contains(msg, c.want) {
				t.Errorf("got %s\nwant it to contain %s", msg, c.want)
			}
		})
	}
}
