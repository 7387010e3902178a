package app

// Labelled reads a counter of a registry for the package's external tests.
var Labelled = labelled
