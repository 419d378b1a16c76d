import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';

/** Where the dashboard's static files live (copied next to the compiled code by nest build). */
export const UI_ROOT = join(__dirname, 'public');

/**
 * The dashboard page at `/`. Its scripts and styles are separate files under /ui/ (served as static
 * assets), so it works under a content security policy without inline code. The page itself holds no
 * data: everything comes from the API with the key the user enters.
 */
@ApiExcludeController()
@SkipThrottle()
@Controller()
export class UiController {
  private readonly html = readFileSync(join(UI_ROOT, 'index.html'), 'utf8');

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  getDashboard(): string {
    return this.html;
  }
}
