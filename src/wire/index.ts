export * from './net/index.js';
