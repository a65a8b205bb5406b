// Package runs is the runs widget of an environment's dashboard: the Lambda behind a
// CloudWatch custom widget that, each time someone views the dashboard, reads the
// environment's pipeline history for the dashboard's time range and answers HTML: the four
// keys (with package dora, the code ship metrics runs, so the two cannot disagree) and the
// newest runs.
//
// The simplest use, in a Lambda main:
//
//	cfg, cfgErr := runs.ConfigFromEnv(os.Getenv)
//	h := &runs.Handler{Pipelines: codepipeline.NewFromConfig(awsCfg), Commits: codecommit.NewFromConfig(awsCfg),
//		Config: cfg, ConfigErr: cfgErr}
//	lambda.Start(h.Handle)
//
// The handler takes the two reads as interfaces (dora.Lister, dora.CommitGetter); NewPage
// and Render are pure. The widget never answers with a Lambda error: what went wrong
// (a missing permission, the time budget, a misconfiguration) is shown in its place.
// RememberActions and RememberCommits wrap the clients of a warm function so that a
// refresh rereads only what can have changed: the history's pages.
//
// # The protocol
//
// A dashboard invokes the function synchronously with the viewer's credentials, sending
// {"widgetContext": {"dashboardName", "timeRange": {"start", "end", "zoom"?} (ms since
// 1970), "timezone": {"offsetISO"}, ...}} and showing the string it returns as HTML; with
// {"describe": true} it asks for the widget's documentation, returned as markdown (Docs).
// The range read is the zoomed part of the dashboard's range when a graph is zoomed,
// cut to its newest MaxRange with a note when longer.
package runs

// Docs is the widget's documentation, answered to {"describe": true}.
const Docs = `## Pipeline runs

The runs of this environment's pipeline in the dashboard's time range, read from CodePipeline's
history when the widget is shown (runs from before the dashboard existed included):

* **Deployments**: deploys (a successful run of a commit new to the environment), and per week.
* **Lead time for changes**: commit time to the end of the run that deployed it; median and p90.
  Commit times come from the account's CodeCommit repository: for a path whose code is on GitHub,
  GitLab or Bitbucket the widget shows lead times as unknown (ship metrics reads them from a clone).
* **Change failure rate**: failed deploys and deploys later rolled back, over deployment attempts.
* **Time to restore**: from a failure to the next run that left a commit deployed; median, p90, and open failures.

Then the newest runs: when each started, its commit, what it was (deploy, rerun, rollback-push,
rollback, failed deploy, refused or failed before deploy, in progress), what started it, how long it took.

The definitions are package dora's, the ones ship metrics uses. Ranges longer than 90 days are cut
to their newest 90 days; the read is bounded by the organisation's settings.historyPages.

### Widget parameters
None: the function reads its pipeline and repository from its environment.

### Permissions
A viewer needs lambda:InvokeFunction on this function. The function itself may only list this
pipeline's executions and action executions, and read commits of this path's CodeCommit
repository (none with a source on GitHub, GitLab or Bitbucket).
`
