package engine

// NewWithBudget is New with a small tag budget, for tests.
var NewWithBudget = newEngine
