// Real local instances for tests, shared with the demo (one copy: src/demo/local).
export * from '../../src/demo/local/nginx';
