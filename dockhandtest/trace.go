package dockhandtest

import "time"

// traceStage, when set (by this package's tests), gets the duration of
// each stage of a service's start and of a test's database: the cold
// path's breakdown (TestColdBreakdown).
var traceStage func(stage string, d time.Duration)

// stage reports the time since start to traceStage, if set.
func stage(name string, start time.Time) {
	if f := traceStage; f != nil {
		f(name, time.Since(start))
	}
}
