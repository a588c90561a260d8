// Command empty is a task that does nothing; it measures the fixed cost of
// one invocation.
package main

func main() {}
