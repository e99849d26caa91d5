import { describe, it, expect } from 'vitest';
import { formatDuration, parseDuration } from '../../src/lib/duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
  ])('accepts %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['1.5h', '30', '5 min', '-1s', '1w', ''])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [30_000, '30s'],
    [300_000, '5m'],
    [7_200_000, '2h'],
    [86_400_000, '1d'],
    [90_000, '90s'],
    [1_500, '1500ms'],
  ])('formats %i as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([250, 1_500, 30_000, 90_000, 300_000, 7_200_000, 86_400_000, 172_800_000])('round-trips %i', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
