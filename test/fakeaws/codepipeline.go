package fakeaws

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// maxPage is CodePipeline's largest (and default) maxResults for ListPipelineExecutions.
const maxPage = 100

func (s *Server) codePipeline(w http.ResponseWriter, op, key string, body []byte) {
	var in struct {
		PipelineName string `json:"pipelineName"` // ListPipelineExecutions
		Name         string `json:"name"`         // GetPipelineState
		MaxResults   int    `json:"maxResults"`
		NextToken    string `json:"nextToken"`
		// PutApprovalResult
		StageName  string `json:"stageName"`
		ActionName string `json:"actionName"`
		Token      string `json:"token"`
		Result     struct {
			Status  string `json:"status"`
			Summary string `json:"summary"`
		} `json:"result"`
		// GetPipelineExecution, StopPipelineExecution
		PipelineExecutionID string `json:"pipelineExecutionId"`
		// ListActionExecutions
		Filter struct {
			PipelineExecutionID string `json:"pipelineExecutionId"`
		} `json:"filter"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "ValidationException", err.Error())
		return
	}
	pipeline := in.PipelineName + in.Name
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reject != "" && key == s.reject {
		writeError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	switch op {
	case "PutJobSuccessResult", "PutJobFailureResult":
		// Recorded (Recorded, Last) with their input; the job ids are not checked.
		writeJSON(w, map[string]any{})
		return
	}
	runs, known := s.runs[pipeline]
	if !known {
		writeError(w, http.StatusBadRequest, "PipelineNotFoundException",
			"The account with id '...' does not include a pipeline with the name "+pipeline)
		return
	}
	switch op {
	case "ListPipelineExecutions":
		s.listExecutions(w, pipeline, runs, in.MaxResults, in.NextToken)
	case "GetPipelineState":
		if lp := s.live[pipeline]; lp != nil && lp.repo.Pace == PaceOnRead {
			s.takeEarnedStep(lp)
			lp.earned = true
		}
		writeJSON(w, map[string]any{"pipelineName": pipeline, "stageStates": stageStates(s.states[pipeline])})
	case "PutApprovalResult":
		if f := s.answer(pipeline, in.StageName, in.ActionName, in.Token, in.Result.Status, in.Result.Summary, s.arnOf(key)); f != nil {
			writeError(w, f.Status, f.Code, f.Message)
			return
		}
		writeJSON(w, map[string]any{"approvedAt": epoch(s.now())})
	case "GetPipelineExecution":
		if lp := s.live[pipeline]; lp != nil && lp.repo.Pace == PaceOnRead {
			s.takeEarnedStep(lp)
		}
		s.getExecution(w, pipeline, in.PipelineExecutionID)
	case "ListActionExecutions":
		s.listActionExecutions(w, pipeline, in.Filter.PipelineExecutionID, in.MaxResults, in.NextToken)
	case "StopPipelineExecution":
		if f := s.stop(pipeline, in.PipelineExecutionID); f != nil {
			writeError(w, f.Status, f.Code, f.Message)
			return
		}
		writeJSON(w, map[string]any{"pipelineExecutionId": in.PipelineExecutionID})
	default:
		writeError(w, http.StatusBadRequest, "InvalidActionException", "fakeaws does not implement "+op)
	}
}

// listExecutions answers one page. The next token is the index of the page's first run.
func (s *Server) listExecutions(w http.ResponseWriter, pipeline string, runs []Run, maxResults int, token string) {
	if s.endless[pipeline] {
		writeJSON(w, map[string]any{"pipelineExecutionSummaries": []any{}, "nextToken": "more"})
		return
	}
	start, size, ok := page(w, token, maxResults, len(runs))
	if !ok {
		return
	}
	if s.pageSize > 0 && s.pageSize < size {
		size = s.pageSize
	}
	end := min(start+size, len(runs))
	sums := []map[string]any{}
	for _, x := range runs[start:end] {
		started := x.Started
		if started.IsZero() {
			started = x.At.Add(-5 * time.Minute)
		}
		typ, action := x.Type, x.SourceAction
		if typ == "" {
			typ = "STANDARD"
		}
		if action == "" {
			action = org.SourceActionName
		}
		sum := map[string]any{
			"pipelineExecutionId": x.ID,
			"status":              x.Status,
			"startTime":           epoch(started),
			"lastUpdateTime":      epoch(x.At),
			"executionType":       typ,
			"trigger":             map[string]any{"triggerType": "CloudWatchEvent"},
		}
		if x.Commit != "" {
			sum["sourceRevisions"] = []map[string]any{{"actionName": action, "revisionId": x.Commit, "revisionSummary": "commit " + x.Commit}}
		}
		if x.RollbackTarget != "" {
			sum["rollbackMetadata"] = map[string]any{"rollbackTargetPipelineExecutionId": x.RollbackTarget}
			sum["trigger"] = map[string]any{"triggerType": "AutomatedRollback"}
		}
		sums = append(sums, sum)
	}
	out := map[string]any{"pipelineExecutionSummaries": sums}
	if end < len(runs) {
		out["nextToken"] = strconv.Itoa(end)
	}
	writeJSON(w, out)
}

func stageStates(stages []Stage) []map[string]any {
	out := []map[string]any{}
	for _, st := range stages {
		actions := []map[string]any{}
		for _, a := range st.Actions {
			as := map[string]any{"actionName": a.Name}
			if a.Status != "" {
				latest := map[string]any{"status": a.Status, "lastStatusChange": epoch(a.Changed)}
				if a.Token != "" {
					latest["token"] = a.Token
				}
				if a.Summary != "" {
					latest["summary"] = a.Summary
				}
				if a.Error != "" {
					latest["errorDetails"] = map[string]any{"code": "JobFailed", "message": a.Error}
				}
				if a.URL != "" {
					latest["externalExecutionUrl"] = a.URL
				}
				as["latestExecution"] = latest
			}
			actions = append(actions, as)
		}
		stage := map[string]any{"stageName": st.Name, "actionStates": actions}
		if st.Execution != "" {
			latest := map[string]any{"pipelineExecutionId": st.Execution, "status": st.ExecutionStatus}
			if st.Type != "" {
				latest["type"] = st.Type
			}
			stage["latestExecution"] = latest
		}
		for key, c := range map[string]*Condition{"beforeEntryConditionState": st.Entry, "onSuccessConditionState": st.Success, "onFailureConditionState": st.Failure} {
			if c != nil {
				stage[key] = conditionState(c)
			}
		}
		if len(st.Inbound) > 0 {
			// V2 pipelines list every waiting run; inboundExecution is the next one to enter.
			var inbound []map[string]any
			for _, id := range st.Inbound {
				inbound = append(inbound, map[string]any{"pipelineExecutionId": id, "status": "InProgress"})
			}
			stage["inboundExecutions"] = inbound
			stage["inboundExecution"] = inbound[0]
		}
		out = append(out, stage)
	}
	return out
}

// epoch is a timestamp as the JSON protocols send it: seconds since 1970, a number.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(v)
}

// conditionState is a Condition as GetPipelineState answers it: the stage's conditions'
// latest execution and, for its one condition, each rule's latest execution.
func conditionState(c *Condition) map[string]any {
	rules := []map[string]any{}
	for _, r := range c.Rules {
		rs := map[string]any{"ruleName": r.Name}
		if r.Status != "" {
			rs["latestExecution"] = map[string]any{"status": r.Status, "summary": r.Summary, "lastStatusChange": epoch(r.Changed)}
		}
		rules = append(rules, rs)
	}
	latest := map[string]any{"status": c.Status}
	if c.Summary != "" {
		latest["summary"] = c.Summary
	}
	return map[string]any{
		"latestExecution": latest,
		"conditionStates": []map[string]any{{"latestExecution": map[string]any{"status": c.Status}, "ruleStates": rules}},
	}
}

// getExecution answers GetPipelineExecution from the pipeline's runs. s.mu must be held.
func (s *Server) getExecution(w http.ResponseWriter, pipeline, id string) {
	for _, x := range s.runs[pipeline] {
		if x.ID != id {
			continue
		}
		typ, action := x.Type, x.SourceAction
		if typ == "" {
			typ = "STANDARD"
		}
		if action == "" {
			action = org.SourceActionName
		}
		e := map[string]any{
			"pipelineName": pipeline, "pipelineVersion": 1, "pipelineExecutionId": x.ID, "status": x.Status,
			"executionMode": "QUEUED", "executionType": typ, "trigger": map[string]any{"triggerType": "CloudWatchEvent"},
		}
		if x.StatusSummary != "" {
			e["statusSummary"] = x.StatusSummary
		}
		if x.Commit != "" {
			e["artifactRevisions"] = []map[string]any{{"name": action + "Artifact", "revisionId": x.Commit, "revisionSummary": "commit " + x.Commit}}
		}
		if x.RollbackTarget != "" {
			e["rollbackMetadata"] = map[string]any{"rollbackTargetPipelineExecutionId": x.RollbackTarget}
			e["trigger"] = map[string]any{"triggerType": "AutomatedRollback"}
		}
		writeJSON(w, map[string]any{"pipelineExecution": e})
		return
	}
	writeError(w, http.StatusBadRequest, "PipelineExecutionNotFoundException",
		"Pipeline execution "+id+" not found in pipeline "+pipeline)
}

// listActionExecutions answers one page of ListActionExecutions, newest first, of one
// execution if the filter names one. The next token is the index of the page's first
// action execution. s.mu must be held.
func (s *Server) listActionExecutions(w http.ResponseWriter, pipeline, execution string, maxResults int, token string) {
	all := s.steps.actions[pipeline]
	var sel []ActionRun
	for i := len(all) - 1; i >= 0; i-- {
		if execution == "" || all[i].Execution == execution {
			sel = append(sel, all[i])
		}
	}
	start, size, ok := page(w, token, maxResults, len(sel))
	if !ok {
		return
	}
	end := min(start+size, len(sel))
	details := []map[string]any{}
	for _, a := range sel[start:end] {
		result := map[string]any{}
		if a.Summary != "" {
			result["externalExecutionSummary"] = a.Summary
		}
		if a.URL != "" {
			result["externalExecutionUrl"] = a.URL
		}
		if a.Error != "" {
			result["errorDetails"] = map[string]any{"code": "JobFailed", "message": a.Error}
		}
		output := map[string]any{"executionResult": result}
		if len(a.Variables) > 0 {
			output["outputVariables"] = a.Variables
		}
		d := map[string]any{
			"pipelineExecutionId": a.Execution, "actionExecutionId": a.id, "pipelineVersion": 1,
			"stageName": a.Stage, "actionName": a.Action, "status": a.Status,
			"startTime": epoch(a.Started), "lastUpdateTime": epoch(a.Updated), "output": output,
		}
		if a.UpdatedBy != "" {
			d["updatedBy"] = a.UpdatedBy
		}
		details = append(details, d)
	}
	out := map[string]any{"actionExecutionDetails": details}
	if end < len(sel) {
		out["nextToken"] = strconv.Itoa(end)
	}
	writeJSON(w, out)
}

// page reads a list call's paging: the offset its next token names (the fake's tokens are
// offsets into the list of n items) and the page size, maxResults bounded by maxPage. A
// token that is not such an offset is answered with InvalidNextTokenException (ok false).
func page(w http.ResponseWriter, token string, maxResults, n int) (start, size int, ok bool) {
	if token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 || v > n {
			writeError(w, http.StatusBadRequest, "InvalidNextTokenException", "The next token is not valid: "+token)
			return 0, 0, false
		}
		start = v
	}
	size = maxResults
	if size <= 0 || size > maxPage {
		size = maxPage
	}
	return start, size, true
}
