// Package fnspec is the contract between Glacier's compilers and its
// function runtimes: what a compiler writes into a function's artifact and
// environment (the TaskSpec, the file names, DatasetsEnv), how much memory
// a function needs beside its task's (HostReserveMiB), what an invocation
// sends and answers (Request, Response), the kinds of failure it reports
// (the Kind constants), and how run ids look (NewRunID, CheckRunID).
//
// Compilers, the planner and the packagers build artifacts without running
// anything, so they must not link the sandbox and its engine. This package
// therefore imports only the standard library and the host ABI's constants
// (a test at the repository's root keeps it so), and the sandbox, the
// function runtimes and the compilers all import it.
//
// # The artifact
//
// A function's directory (Lambda's /var/task, a Cloud Function's source
// directory) holds the task's module (ModuleFile), its TaskSpec (SpecFile)
// and, optionally, the module's precompiled machine code (PrecompiledDir).
// The function's environment holds DatasetsEnv, the URL of every dataset
// the task reads or writes.
//
// # Checking modules at compile time
//
// A packager asks a module checker, a program linking the sandbox, to load
// a module as the function's sandbox will and, when the function's platform
// is the packaging machine's, to precompile it. The packager sends a
// CheckRequest on the checker's standard input and reads a CheckResult from
// its standard output; see package providers/internal/modcheck.
package fnspec
