import { describe, it, expect } from 'vitest';
import { ipLiteral, isPublicAddress } from '../../src/webhooks/address-guard';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('ipLiteral', () => {
  // WHATWG URL normalises these IPv4 spellings to dotted decimal before we see them.
  it.each(['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/'])('%s is 127.0.0.1', (url) => {
    const ip = ipLiteral(new URL(url));
    expect(ip).toBe('127.0.0.1');
    expect(isPublicAddress(ip!)).toBe(false);
  });

  it('strips the brackets of an IPv6 literal', () => {
    expect(ipLiteral(new URL('http://[::1]:8080/'))).toBe('::1');
  });

  it('normalises a mapped IPv6 literal, still judged as its IPv4', () => {
    const ip = ipLiteral(new URL('http://[::ffff:127.0.0.1]/'));
    expect(ip).toBe('::ffff:7f00:1');
    expect(isPublicAddress(ip!)).toBe(false);
  });

  it('is undefined for a name', () => {
    expect(ipLiteral(new URL('http://example.com/'))).toBeUndefined();
  });
});
