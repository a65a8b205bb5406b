package ship

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// Pipelines is the part of CodePipeline ship uses in one environment's account: the run
// history (also what gate.FindPassed needs) and the live state, for pending approvals; one
// run and its action executions, for --wait and for the plan an approver reads; and the
// answer to an approval (follow.go, approve.go).
type Pipelines interface {
	executionLister
	GetPipelineState(ctx context.Context, in *codepipeline.GetPipelineStateInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineStateOutput, error)
	GetPipelineExecution(ctx context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error)
	ListActionExecutions(ctx context.Context, in *codepipeline.ListActionExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error)
	PutApprovalResult(ctx context.Context, in *codepipeline.PutApprovalResultInput, optFns ...func(*codepipeline.Options)) (*codepipeline.PutApprovalResultOutput, error)
}

var _ Pipelines = (*codepipeline.Client)(nil)

// executionLister is the history call alone. It has the method set of gate's own lister
// interface, so any Pipelines can be handed to gate.FindPassed.
type executionLister interface {
	ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error)
}

// Alarms is the part of CloudWatch ship reads in one environment's account: the state of
// the alarms the environment's Deploy stage watches, by name.
type Alarms interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ Alarms = (*cloudwatch.Client)(nil)

// Objects is the part of S3 ship reads: one object, an SBOM in the registry account's
// bucket (ship sbom), read with an environment's credentials.
type Objects interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ Objects = (*s3.Client)(nil)

// Account is one environment's AWS account as ship reads it: the clients of its
// pipeline, its alarms, its objects and its repository, behind credentials checked once to
// be that account's.
type Account struct {
	// Pipelines reads the environment's pipeline.
	Pipelines Pipelines
	// Alarms reads the environment's CloudWatch alarms. Default: - none; a command that
	// wants them reports the alarms as unknown.
	Alarms Alarms
	// Objects reads S3 objects with the environment's credentials, in the environment's
	// region unless a call sets another (ship sbom reads the registry's bucket in the
	// registry's region). Default: - none; ship sbom says it cannot read SBOMs.
	Objects Objects
	// Commits reads commits (their committer dates) from the environment's CodeCommit
	// repository, for the lead times of ship metrics. Default: - none; metrics reports
	// lead times as unknown, and says why.
	Commits dora.CommitGetter
	// Sandboxes reads the path's sandbox table (package state) in the first environment's
	// account, for ship sandbox list. Default: - none; the list says the statuses are unknown.
	Sandboxes state.API
}

// ClientFactory opens one environment's account. Ship calls it only for the environments
// a command reads, so promote needs only the upstream's credentials.
type ClientFactory func(ctx context.Context, env org.Environment) (Account, error)

// AWSAccess says how to reach each environment's account. An environment with neither a
// profile nor a role uses the SDK's default credential chain (AWS_* variables, AWS_PROFILE,
// SSO, instance or container roles). The region is always the environment's own.
type AWSAccess struct {
	// Profiles maps an environment to a shared-config profile (~/.aws/config).
	Profiles map[string]string
	// Roles maps an environment to a role ARN in its account, assumed through STS with the
	// profile's (or the default) credentials.
	Roles map[string]string
}

// Clients returns a ClientFactory over the AWS SDK: per environment, a CodePipeline, a
// CloudWatch, an S3 and a CodeCommit client sharing one set of credentials. It resolves and checks the credentials
// up front, so a missing or broken credential is reported naming the environment and
// account and how to provide it, rather than as the first API call's error.
//
// It then asks STS whose credentials they are (sts:GetCallerIdentity, one call per
// environment opened; it needs no IAM permission) and refuses them unless they belong to
// the environment's own account, for every command, read-only ones included: the
// pipeline's name is the same in every account of a path, so credentials of the wrong
// account can read a real pipeline of the same name (another environment's), and ship
// would then push, or report, on that environment's history.
// The SDK honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_CODEPIPELINE / _STS / _CLOUDWATCH /
// _S3 / _CODECOMMIT).
func (a AWSAccess) Clients() ClientFactory {
	return a.clients(nil)
}

// clients is Clients; p, if not nil, is the path, whose other environments are named when
// the credentials turn out to be one of theirs.
func (a AWSAccess) clients(p *org.Path) ClientFactory {
	return func(ctx context.Context, env org.Environment) (Account, error) {
		src := sourceFor(env.Name, a.Profiles[env.Name], a.Roles[env.Name])
		cfg, err := openAccount(ctx, env, src, p)
		if err != nil {
			return Account{}, err
		}
		return newAccountClients(cfg).account(env, src.hint), nil
	}
}

// credSource is where one environment's credentials come from, and how the command line
// gave them, for the messages that explain a failure.
type credSource struct {
	// profile is the shared-config profile; "" for the default chain.
	profile string
	// role is the role ARN assumed with the profile's (or the default) credentials; "" for none.
	role string
	// profileFlag and roleFlag are the flags that gave them, e.g. "--profile stg=stg-admin",
	// "--role 333333333333=...", "--role-name reader".
	profileFlag, roleFlag string
	// hint is the key a message suggests a fix under (--profile <hint>=...): the
	// environment's name, or, where one flag may span several paths, its account.
	hint string
}

// sourceFor is the source --profile env=profile and --role env=role give.
func sourceFor(env, profile, role string) credSource {
	return credSource{profile: profile, role: role, hint: env,
		profileFlag: fmt.Sprintf("--profile %s=%s", env, profile), roleFlag: fmt.Sprintf("--role %s=...", env)}
}

// openAccount loads the credentials src names for env's account, in env's region, and
// checks with STS that they are that account's. Every client of the account shares the
// configuration it returns (and the credentials cached in it: a role is assumed once).
func openAccount(ctx context.Context, env org.Environment, src credSource, p *org.Path) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(env.Region),
		// The SDK's own log lines (e.g. "falling back to IMDSv1") would interleave with
		// ship's output; every failure they hint at comes back as an error, explained.
		config.WithLogger(logging.Nop{}),
	}
	if src.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(src.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, src.credentialsError(env, err)
	}
	if src.role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), src.role,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = sessionName() }))
	}
	if cfg.Credentials == nil {
		return cfg, src.credentialsError(env, errors.New("the SDK found no credential provider"))
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return cfg, src.credentialsError(env, err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return cfg, src.identityError(env, err)
	}
	if got := aws.ToString(id.Account); got != env.Account {
		return cfg, &WrongAccountError{Env: env, Account: got, Source: src.String(), Path: p, Key: src.hint}
	}
	return cfg, nil
}

// accountClients are the SDK clients of one account, made once from its configuration and
// shared by every environment read with it (ship metrics reads many paths in one account).
type accountClients struct {
	pipelines *codepipeline.Client
	alarms    *cloudwatch.Client
	objects   *s3.Client
	commits   *codecommit.Client
	sandboxes *dynamodb.Client
}

func newAccountClients(cfg aws.Config) accountClients {
	return accountClients{
		pipelines: codepipeline.NewFromConfig(cfg),
		alarms:    cloudwatch.NewFromConfig(cfg),
		// Path-style with an endpoint override (AWS_ENDPOINT_URL, a local stand-in): a
		// virtual-hosted bucket would be a host name under it (bucket.localhost) that need
		// not resolve. S3's endpoint rules use path style for an IP address already.
		objects:   s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }),
		commits:   codecommit.NewFromConfig(cfg),
		sandboxes: dynamodb.NewFromConfig(cfg),
	}
}

// account is the clients as env's Account: each error names env, and hint is the key a
// credential message suggests (see credSource).
func (c accountClients) account(env org.Environment, hint string) Account {
	return Account{
		Pipelines: envPipelines{env: env, c: c.pipelines, hint: hint},
		Alarms:    envAlarms{env: env, c: c.alarms},
		Objects:   c.objects,
		Commits:   envCommits{env: env, c: c.commits, hint: hint},
		Sandboxes: envTable{env: env, c: c.sandboxes, hint: hint},
	}
}

// WrongAccountError is credentials that work, but belong to another account than the
// environment's: ship refuses to read, let alone push, with them.
type WrongAccountError struct {
	// Env is the environment the credentials were meant for.
	Env org.Environment
	// Account is the account STS says the credentials belong to.
	Account string
	// Source says where the credentials came from: a profile, a role, the default chain.
	Source string
	// Path, if set, names the environment Account belongs to, when it is one of the path's.
	Path *org.Path
	// Key is what the fix's flags are keyed by: --profile <Key>=... Default: - Env's name.
	Key string
}

// Error implements error.
func (e *WrongAccountError) Error() string {
	whose := ""
	if e.Path != nil {
		for _, o := range e.Path.Environments {
			if o.Account == e.Account && o.Name != e.Env.Name {
				whose = fmt.Sprintf(" (%s's account)", o.Name)
				break
			}
		}
	}
	key := e.Key
	if key == "" {
		key = e.Env.Name
	}
	return fmt.Sprintf("the credentials for environment %s (%s) belong to account %s%s, not %s's account %s; "+
		"pass --profile %s=<profile for %s> or --role %s=arn:aws:iam::%s:role/<name>",
		e.Env.Name, e.Source, e.Account, whose, e.Env.Name, e.Env.Account,
		key, e.Env.Account, key, e.Env.Account)
}

// credentialSource names where env's credentials come from, as the user gave them.
func credentialSource(env, profile, role string) string {
	return sourceFor(env, profile, role).String()
}

// String names where the credentials come from, as the user gave them.
func (s credSource) String() string {
	switch {
	case s.role != "" && s.profile != "":
		return fmt.Sprintf("role %s (%s), assumed with profile %q", s.role, s.roleFlag, s.profile)
	case s.role != "":
		return fmt.Sprintf("role %s (%s), assumed with the default credentials", s.role, s.roleFlag)
	case s.profile != "":
		return fmt.Sprintf("profile %q (%s)", s.profile, s.profileFlag)
	default:
		return "the default credential chain: AWS_ACCESS_KEY_ID, AWS_PROFILE, SSO or an instance role"
	}
}

// identityError explains a failed GetCallerIdentity: without it ship cannot tell whose
// account it would read, so it stops.
func identityError(env org.Environment, profile, role string, err error) error {
	return sourceFor(env.Name, profile, role).identityError(env, err)
}

func (s credSource) identityError(env org.Environment, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && credentialCodes[api.ErrorCode()] {
		return &explained{err: err, msg: fmt.Sprintf("AWS rejected the credentials for environment %s (account %s, region %s) from %s (%s: %s); refresh them or pass --profile %s=<profile> / --role %s=<role ARN>",
			env.Name, env.Account, env.Region, s, api.ErrorCode(), api.ErrorMessage(), s.hint, s.hint)}
	}
	return fmt.Errorf("cannot tell which account the credentials for environment %s (%s) belong to, so ship reads nothing with them: sts:GetCallerIdentity: %w",
		env.Name, s, err)
}

// credentialsError explains, for a person, which account needs credentials and the three
// ways to provide them; the SDK's own message stays at the end for the details.
func credentialsError(env org.Environment, profile, role string, err error) error {
	return sourceFor(env.Name, profile, role).credentialsError(env, err)
}

func (s credSource) credentialsError(env org.Environment, err error) error {
	where := fmt.Sprintf("environment %s (account %s, region %s)", env.Name, env.Account, env.Region)
	var noProfile config.SharedConfigProfileNotExistError
	switch {
	case errors.As(err, &noProfile):
		return fmt.Errorf("AWS profile %q (%s) for %s does not exist in the shared config files "+
			"(~/.aws/config and ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE): %w",
			s.profile, s.profileFlag, where, err)
	case s.role != "":
		return fmt.Errorf("cannot assume role %s (%s) for %s: %w; the role is assumed with %s, "+
			"which must be allowed sts:AssumeRole on it", s.role, s.roleFlag, where, err, s.base())
	case s.profile != "":
		return fmt.Errorf("no usable AWS credentials in profile %q (%s) for %s: %w; "+
			"log in for that profile (e.g. aws sso login --profile %s) or fix it in ~/.aws/config",
			s.profile, s.profileFlag, where, err, s.profile)
	default:
		return fmt.Errorf("no usable AWS credentials for %s: %w; provide them with --profile %s=<profile> "+
			"(a profile for account %s), --role %s=arn:aws:iam::%s:role/<name> (assumed with your default credentials), "+
			"or the default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO)",
			where, err, s.hint, env.Account, s.hint, env.Account)
	}
}

func baseCredentials(env, profile string) string { return sourceFor(env, profile, "").base() }

// base names the credentials a role is assumed with.
func (s credSource) base() string {
	if s.profile != "" {
		return fmt.Sprintf("profile %q (%s)", s.profile, s.profileFlag)
	}
	return "the default credentials (AWS_* variables, AWS_PROFILE, SSO, instance role)"
}

var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// sessionName names the assumed-role session after the local user, so CloudTrail in the
// environment's account shows who pushed, not just "ship".
func sessionName() string {
	name := "ship"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "ship-" + sessionUnsafe.ReplaceAllString(u.Username, "-")
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// envPipelines adds the environment to every error, and turns the errors people hit most
// (wrong account, rejected credentials) into an explanation.
type envPipelines struct {
	env  org.Environment
	c    Pipelines
	hint string // the key a credential message suggests; "" for env's name (credSource.hint)
}

func (p envPipelines) ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	out, err := p.c.ListPipelineExecutions(ctx, in, optFns...)
	return out, p.explain(aws.ToString(in.PipelineName), err)
}

func (p envPipelines) GetPipelineState(ctx context.Context, in *codepipeline.GetPipelineStateInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineStateOutput, error) {
	out, err := p.c.GetPipelineState(ctx, in, optFns...)
	return out, p.explain(aws.ToString(in.Name), err)
}

func (p envPipelines) explain(pipeline string, err error) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("environment %s (account %s, region %s)", p.env.Name, p.env.Account, p.env.Region)
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("%s: %w", where, err)
	}
	// The SDK's own text repeats the operation, status and request id; the API's code and
	// message are what a person needs, the rest stays reachable through Unwrap.
	what := api.ErrorCode() + ": " + api.ErrorMessage()
	var nf *types.PipelineNotFoundException
	switch {
	case errors.As(err, &nf):
		return &explained{err: err, msg: fmt.Sprintf("pipeline %s not found in %s (%s); are the credentials for account %s?",
			pipeline, where, what, p.env.Account)}
	case credentialCodes[api.ErrorCode()]:
		hint := p.hint
		if hint == "" {
			hint = p.env.Name
		}
		return &explained{err: err, msg: fmt.Sprintf("AWS rejected the credentials for %s (%s); refresh them or pass --profile %s=<profile> / --role %s=<role ARN>",
			where, what, hint, hint)}
	case api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied":
		return &explained{err: err, msg: fmt.Sprintf("access denied reading pipeline %s in %s (%s); the identity needs codepipeline:ListPipelineExecutions and codepipeline:GetPipelineState there",
			pipeline, where, what)}
	}
	return fmt.Errorf("%s: %w", where, err)
}

// envAlarms adds the environment to every CloudWatch error, and explains the ones people
// hit (rejected credentials, a missing cloudwatch:DescribeAlarms permission).
type envAlarms struct {
	env org.Environment
	c   Alarms
}

func (a envAlarms) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	out, err := a.c.DescribeAlarms(ctx, in, optFns...)
	if err == nil {
		return out, nil
	}
	where := fmt.Sprintf("environment %s (account %s, region %s)", a.env.Name, a.env.Account, a.env.Region)
	var api smithy.APIError
	if !errors.As(err, &api) {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	what := api.ErrorCode() + ": " + api.ErrorMessage()
	switch {
	case credentialCodes[api.ErrorCode()]:
		return nil, &explained{err: err, msg: fmt.Sprintf("AWS rejected the credentials for %s (%s)", where, what)}
	case api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied":
		return nil, &explained{err: err, msg: fmt.Sprintf("access denied reading alarms in %s (%s); the identity needs cloudwatch:DescribeAlarms there", where, what)}
	}
	return nil, &explained{err: err, msg: fmt.Sprintf("reading alarms in %s: %s", where, what)}
}

// envCommits adds the environment to every CodeCommit error, and explains the ones people
// hit: rejected credentials, a missing codecommit:BatchGetCommits permission, a repository
// the account does not have.
type envCommits struct {
	env  org.Environment
	c    dora.CommitGetter
	hint string // as envPipelines.hint
}

func (c envCommits) BatchGetCommits(ctx context.Context, in *codecommit.BatchGetCommitsInput, optFns ...func(*codecommit.Options)) (*codecommit.BatchGetCommitsOutput, error) {
	out, err := c.c.BatchGetCommits(ctx, in, optFns...)
	if err == nil {
		return out, nil
	}
	repo := aws.ToString(in.RepositoryName)
	where := fmt.Sprintf("environment %s (account %s, region %s)", c.env.Name, c.env.Account, c.env.Region)
	var api smithy.APIError
	if !errors.As(err, &api) {
		return nil, fmt.Errorf("reading commits of repository %s in %s: %w", repo, where, err)
	}
	hint := c.hint
	if hint == "" {
		hint = c.env.Name
	}
	what := api.ErrorCode() + ": " + api.ErrorMessage()
	switch {
	case credentialCodes[api.ErrorCode()]:
		return nil, &explained{err: err, msg: fmt.Sprintf("AWS rejected the credentials for %s (%s); refresh them or pass --profile %s=<profile> / --role %s=<role ARN>",
			where, what, hint, hint)}
	case api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied":
		return nil, &explained{err: err, msg: fmt.Sprintf("access denied reading commits of repository %s in %s (%s); the identity needs codecommit:BatchGetCommits on it",
			repo, where, what)}
	case api.ErrorCode() == "RepositoryDoesNotExistException":
		return nil, &explained{err: err, msg: fmt.Sprintf("repository %s not found in %s (%s); are the credentials for account %s?",
			repo, where, what, c.env.Account)}
	}
	return nil, &explained{err: err, msg: fmt.Sprintf("reading commits of repository %s in %s: %s", repo, where, what)}
}

// envTable adds the environment to every DynamoDB error of the sandbox table, and explains
// the ones people hit: rejected credentials, a missing dynamodb:GetItem permission, a table
// the account does not have (sandboxes not deployed there).
type envTable struct {
	env  org.Environment
	c    state.API
	hint string // as envPipelines.hint
}

var _ state.API = envTable{}

func (t envTable) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := t.c.GetItem(ctx, in, optFns...)
	return out, t.explain(aws.ToString(in.TableName), "GetItem", err)
}

func (t envTable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := t.c.PutItem(ctx, in, optFns...)
	return out, t.explain(aws.ToString(in.TableName), "PutItem", err)
}

func (t envTable) explain(table, op string, err error) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("environment %s (account %s, region %s)", t.env.Name, t.env.Account, t.env.Region)
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("reading table %s in %s: %w", table, where, err)
	}
	hint := t.hint
	if hint == "" {
		hint = t.env.Name
	}
	what := api.ErrorCode() + ": " + api.ErrorMessage()
	switch {
	case credentialCodes[api.ErrorCode()]:
		return &explained{err: err, msg: fmt.Sprintf("AWS rejected the credentials for %s (%s); refresh them or pass --profile %s=<profile> / --role %s=<role ARN>",
			where, what, hint, hint)}
	case api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied":
		return &explained{err: err, msg: fmt.Sprintf("access denied reading table %s in %s (%s); the identity needs dynamodb:%s on it",
			table, where, what, op)}
	case api.ErrorCode() == "ResourceNotFoundException":
		return &explained{err: err, msg: fmt.Sprintf("table %s not found in %s (%s): the sandbox controller is not deployed there yet (the platform's stacks create it once the organisation file gives the service sandboxes)",
			table, where, what)}
	}
	return &explained{err: err, msg: fmt.Sprintf("reading table %s in %s: %s", table, where, what)}
}

var credentialCodes = map[string]bool{
	"UnrecognizedClientException": true, "InvalidSignatureException": true, "InvalidClientTokenId": true,
	"SignatureDoesNotMatch": true, "ExpiredTokenException": true, "ExpiredToken": true,
}

// explained is an AWS error retold for a person; errors.As still reaches the SDK's error.
type explained struct {
	err error
	msg string
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }
