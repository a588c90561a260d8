package local

// Permanent exposes permanent to the tests.
var Permanent = permanent
