// Package testhook lets dockhandtest's own tests (and the child test
// processes they start) make their KeepAlive servers theirs alone, and
// turn off or watch the watchdog.
package testhook

// KeepAliveTag, when not empty, is mixed into the key (and so the
// container name) of every KeepAlive server of this process: a test that
// sets it to a random value gets KeepAlive servers no other run or
// developer shares, so it may remove them. Set it before the first
// server starts; never set it outside tests.
var KeepAliveTag string

// InitialisedTag, when not empty, is mixed into the hash of the
// initialised images (WithInitialisedImage) this process makes, so a
// test that sets it to a random value makes an image of its own and may
// remove it. Set it before the first server starts; never outside tests.
var InitialisedTag string

// NoWatchdog, when true, starts no watchdog in this process: a process
// killed without releasing its holds leaves its servers behind, as one
// whose watchdog died too would (the leftover a later run replaces). Set
// it before the first server starts; never outside tests.
var NoWatchdog bool

// WatchdogLog, when not empty, is a file this process's watchdog appends
// what it does to. Set it before the first server starts; never outside
// tests.
var WatchdogLog string
