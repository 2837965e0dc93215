// Headless command line over the engine and the simulated deployment.
console.log('coder-scaletest: not implemented yet');
