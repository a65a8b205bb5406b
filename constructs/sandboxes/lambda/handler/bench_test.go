package handler_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkHandlePush: one push of an existing sandbox, through the real SDK clients and the
// local fake: read, conditional write, StopBuild of the running deploy, StartBuild, and the
// second write that records the build. It measures the controller's own work per event;
// AWS's latencies come on top.
func BenchmarkHandlePush(b *testing.B) {
	w := newWorld(b, 3)
	b.ResetTimer()
	for i := range b.N {
		if err := w.h.Handle(b.Context(), pushEvent(fmt.Sprintf("ev-%d", i), "alice", c1, t0.Add(time.Duration(i)*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
}
