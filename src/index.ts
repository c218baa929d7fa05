export * from './api/resource.js';
export * from './apimachinery/errors.js';
export * from './storage/backend.js';
