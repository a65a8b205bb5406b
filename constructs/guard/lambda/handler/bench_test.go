package handler_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/gobuild"
)

// Measurements, not tests: see constructs/guard/MEASUREMENTS.md for how they are run.

// reportP50 reports the median of ds in milliseconds as the metric "p50-ms".
func reportP50(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkDecision measures one decision through the real SDK clients against the fake
// AWS over loopback HTTP: the commit on the first page, and on the last page the default
// bound reads (page 10 of 100 executions). "warm" reuses the handler (cached upstream
// credentials, as in a warm Lambda); "cold" builds a new one per decision (adds AssumeRole).
func BenchmarkDecision(b *testing.B) {
	cases := []struct {
		name   string
		commit string
		warm   bool
	}{
		{"warm/first-page", commitN(3), true},
		{"warm/page-bound", commitN(998), true},
		{"cold/first-page", commitN(3), false},
		{"cold/page-bound", commitN(998), false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			fake := &fakeAWS{Executions: history(1000)}
			srv := newFakeAWS(b, fake)
			h := newSDKHandler(srv.URL, nil)
			ev := eventFor(testJobID, tc.commit)
			ctx := context.Background()
			if tc.warm {
				if err := h.Handle(ctx, ev); err != nil { // warm up: AssumeRole, connections
					b.Fatal(err)
				}
			}
			fake.srv.ForgetCalls()
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if !tc.warm {
					h = newSDKHandler(srv.URL, nil)
				}
				start := time.Now()
				if err := h.Handle(ctx, ev); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			b.StopTimer()
			if n := countOp(fake, "PutJobSuccessResult"); n != b.N {
				b.Fatalf("%d successes for %d decisions: %v", n, b.N, fake.ops())
			}
			if os.Getenv("GUARD_BENCH_DEBUG") != "" {
				counts := map[string]int{}
				for _, op := range fake.ops() {
					counts[op]++
				}
				b.Logf("calls by operation for %d decisions: %v", b.N, counts)
			}
			b.ReportMetric(float64(len(fake.calls()))/float64(b.N), "aws-calls/op")
			reportP50(b, ds)
		})
	}
}

// BenchmarkColdStart starts the packaged binary (host platform, built once by gobuild) and
// measures the time from exec to its answer of the first invocation, which includes process
// start, config and client set-up, AssumeRole, one ListPipelineExecutions and
// PutJobSuccessResult against the fakes.
func BenchmarkColdStart(b *testing.B) {
	bin := guardBinary(b)
	fake := &fakeAWS{Executions: history(100)}
	awsSrv := newFakeAWS(b, fake)
	ev := eventFor(testJobID, commitN(3))
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rt, rtSrv := newFakeRuntime(b, "req", ev)
		b.StartTimer()
		ans, d, logs := runGuard(b, bin, rt, guardEnv(rtSrv.URL, awsSrv.URL))
		if ans.Kind != "response" {
			b.Fatalf("answer %+v\n%s", ans, logs)
		}
		ds = append(ds, d)
	}
	b.StopTimer()
	reportP50(b, ds)
}

var (
	armOnce sync.Once
	armBin  string
	armErr  error
)

// BenchmarkArtifactLinuxArm64 reports the size of the deployed artifact: the linux/arm64
// bootstrap that gobuild makes with its defaults, and that file zipped as the Lambda
// asset (deflate). The loop does nothing; only the metrics matter.
func BenchmarkArtifactLinuxArm64(b *testing.B) {
	armOnce.Do(func() {
		armBin = filepath.Join(tmpDir, "arm64", "bootstrap")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		armErr = gobuild.Build(ctx, gobuild.Options{Package: "./constructs/guard/lambda", Output: armBin, Dir: moduleRoot(b)})
	})
	if armErr != nil {
		b.Fatal(armErr)
	}
	raw, err := os.ReadFile(armBin)
	if err != nil {
		b.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(float64(len(raw)), "binary-bytes")
	b.ReportMetric(float64(zipped.Len()), "zip-bytes")
}
