import { Module } from '@nestjs/common';
import { UiController } from './ui.controller';

/** The static web dashboard (served at `/`, assets under `/ui/`). */
@Module({ controllers: [UiController] })
export class UiModule {}
