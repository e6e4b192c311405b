"""The ROI flow spotter passes the leakage audit and scores a video file
(the checks of tests/test_mdmd_deploy.py; offline scoring hands it the
aligner's ROI boxes, `stream_rois`; the command line, which only parses
flags for `score.run`, is run by the MDMD's test)."""
import pytest

from tests.test_mdmd_deploy import check_audit_passes, check_deploy_and_score

pytestmark = pytest.mark.slow


def test_audit_passes_for_flow_roi(tmp_path):
  check_audit_passes("flow_roi", tmp_path)


def test_deploy_and_score_a_video_file(tmp_path):
  check_deploy_and_score("flow_roi", tmp_path, cli=False)
