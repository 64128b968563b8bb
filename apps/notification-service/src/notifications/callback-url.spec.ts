import { carriesCredentials, withoutCredentials } from './callback-url';

describe(carriesCredentials.name, () => {
  it.each([
    'https://user:pass@hooks.example.com/x',
    'https://token@hooks.example.com/x',
    'https://:pass@hooks.example.com/x',
    'https://@hooks.example.com/x',
    'http://a%40b:c@hooks.example.com:8080/',
    'HTTPS://U:P@HOST/',
    'https:\\\\user:pass@hooks.example.com/x',
    'https:user:pass@hooks.example.com/x',
    '  https://user:pass@hooks.example.com',
  ])('finds the credentials in %s', (url) => {
    expect(carriesCredentials(url)).toBe(true);
    // What the URL parser (and so the HTTP client) makes of it agrees.
    if (URL.canParse(url.trim())) {
      const parsed = new URL(url.trim());
      expect(`${parsed.username}${parsed.password}` !== '' || url.includes('//@')).toBe(true);
    }
  });

  it.each([
    'https://hooks.example.com/x',
    'https://hooks.example.com/@team',
    'https://hooks.example.com/x?owner=ops@example.com',
    'https://hooks.example.com/x#a@b',
    'https://[::1]:8443/x',
  ])('finds none in %s', (url) => {
    expect(carriesCredentials(url)).toBe(false);
  });
});

describe(withoutCredentials.name, () => {
  it('drops the user and password and keeps the rest', () => {
    expect(withoutCredentials('https://u:p@hooks.example.com:8443/x?y=1')).toBe(
      'https://hooks.example.com:8443/x?y=1',
    );
    expect(withoutCredentials('https://hooks.example.com/x')).toBe('https://hooks.example.com/x');
  });
});
