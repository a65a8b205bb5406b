package report

import (
	"bytes"
	"testing"
)

// BenchmarkWriteFiftyPaths writes the report of 50 paths × dev, stg, prd × about 100 events
// each: the time per report, and its size (bytes/report; ECharts alone is 1,024,740 of it).
func BenchmarkWriteFiftyPaths(b *testing.B) {
	in := fiftyPaths()
	events := 0
	for _, p := range in.Paths {
		for _, e := range p.Envs {
			events += len(e.Metrics.Events)
		}
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/report")
	b.ReportMetric(float64(events)/float64(len(in.Paths)*3), "events/env")
}
